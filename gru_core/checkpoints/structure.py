"""Look at an archive's and a pickle's structure without unpacking or building anything.

These checks run before a real reader (torch.load, a Keras loader) sees the bytes, so that a file
built to exhaust it is refused while it is still a few kilobytes of headers and opcodes:

* :func:`zip_entries` reads a zip's central directory only (no entry is decompressed) and caps the
  number of entries and their total declared size, optionally refusing compressed entries;
* :func:`scan_pickle` walks a pickle's opcodes with :mod:`pickletools` (which imports and builds
  nothing) and measures how deeply its objects nest and how many opcodes it has.

Both raise :class:`StructureError` (a ValueError) with a sentence fragment saying what was found;
the caller adds what to do about it, which depends on the file format.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from dataclasses import dataclass

_ATOM = -1  # a stack entry that cannot contain anything (a number, a string, a global, ...)
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})
# opcodes that add the items above them to the object below them, which stays on the stack
_ADD_ONE = frozenset({"APPEND", "BUILD"})
_ADD_PAIR = frozenset({"SETITEM"})
_ADD_MARKED = frozenset({"APPENDS", "SETITEMS", "ADDITEMS"})
# objects that start empty and may be filled later
_EMPTY = frozenset({"EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET", "EMPTY_TUPLE"})
# opcodes that push one thing made from nothing on the stack: numbers, strings, globals, ...
_LEAVES = frozenset(op.name for op in pickletools.opcodes
                    if not op.stack_before and len(op.stack_after) == 1
                    and op.stack_after[0] is not pickletools.markobject and op.name not in _MEMO_GET | _EMPTY)


class StructureError(ValueError):
    """What is wrong with the structure, as the middle of a sentence for the user."""


def zip_entries(data: bytes, *, max_entries: int, max_total_bytes: int,
                stored_only: bool) -> list[zipfile.ZipInfo]:
    """The entries of the zip archive ``data``, after checking its directory, not its contents.

    Refuses more than ``max_entries`` entries, a total declared (uncompressed) size above
    ``max_total_bytes``, two entries with one name (readers disagree on which one counts), and,
    with ``stored_only``, any compressed entry: a reader that inflates before it checks sizes can
    then only ever read what is in the file. Python's own zipfile never reads past an entry's
    declared size, so for it the total cap alone bounds memory.
    """
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as err:
        raise StructureError(f"its zip directory cannot be read ({err})") from None
    if len(infos) > max_entries:
        raise StructureError(f"its zip archive has {len(infos):,} entries, over the limit of {max_entries:,}")
    names = set()
    for info in infos:
        if info.filename in names:
            raise StructureError(f"its zip archive has two entries named {info.filename[:80]!r}")
        names.add(info.filename)
    total = sum(info.file_size for info in infos)
    if total > max_total_bytes:
        raise StructureError(f"its zip entries would unpack to {total / 1e6:,.1f} MB, over the "
                             f"{max_total_bytes / 1e6:g} MB limit")
    if stored_only:
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
                raise StructureError(f"its zip entry {info.filename[:80]!r} is compressed "
                                     f"({info.compress_size:,} bytes that unpack to {info.file_size:,})")
    return infos


@dataclass(frozen=True)
class PickleScan:
    ops: int     # opcodes, STOP included
    depth: int   # deepest nesting of containers and calls: 1 for a flat tuple of numbers, 0 for a number
    end: int     # offset just past the STOP opcode


def scan_pickle(data: bytes | memoryview, *, start: int = 0, max_ops: int, max_depth: int) -> PickleScan:
    """Measure the pickle at ``data[start:]`` without unpickling it.

    The unpickler's stack is simulated with node ids instead of objects; every opcode that builds
    an object from others (a tuple, a dict, a call, a tensor rebuild) makes a node whose children
    are the nodes it consumed, and in-place opcodes (APPEND, SETITEMS, BUILD, ...) add children to
    the node they modify. Nesting depth is the longest path in that graph, so it counts structures
    built in any order, including through the memo; the usual bottom-up nesting is refused as soon
    as it passes the limit. Raises StructureError past ``max_ops`` opcodes or ``max_depth``
    levels, or when the opcodes cannot be read at all.
    """
    stream = io.BytesIO(data)
    stream.seek(start)
    children: list[list[int]] = []   # children[node] = node ids it contains (atoms left out)
    heights: list[int] = []          # heights[node]: how deep it nests so far (a lower bound)
    stack: list[int] = []
    marks: list[int] = []
    memo: dict[int, int] = {}

    def too_deep() -> StructureError:
        return StructureError(f"its pickled data is nested more than {max_depth} levels deep")

    def node(contents: list[int]) -> int:
        inner = [c for c in contents if c != _ATOM]
        height = 1 + max((heights[c] for c in inner), default=0)
        if height > max_depth:  # built bottom-up, as pickle writes: exact, and refused at once
            raise too_deep()
        children.append(inner)
        heights.append(height)
        return len(children) - 1

    def add(items: list[int]) -> None:
        """Items added in place to the object on top of the stack (given a node if it had none)."""
        if stack[-1] == _ATOM:
            stack[-1] = node([])
        target = stack[-1]
        inner = [c for c in items if c != _ATOM]
        children[target].extend(inner)
        heights[target] = max(heights[target], 1 + max((heights[c] for c in inner), default=0))
        if heights[target] > max_depth:
            raise too_deep()

    def pop_mark() -> list[int]:
        at = marks.pop() if marks else 0
        items = stack[at:]
        del stack[at:]
        return items

    ops = 0
    try:
        for op, arg, _ in pickletools.genops(stream):
            ops += 1
            if ops > max_ops:
                raise StructureError(f"its pickled data has more than {max_ops:,} instructions")
            name = op.name
            if name in _LEAVES:  # the common case first
                stack.append(_ATOM)
            elif name in _EMPTY:
                children.append([])
                heights.append(1)
                stack.append(len(children) - 1)
            elif name == "MARK":
                marks.append(len(stack))
            elif name in _MEMO_PUT:
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in _MEMO_GET:
                stack.append(memo.get(arg, _ATOM))
            elif name == "DUP":
                stack.append(stack[-1])
            elif name == "POP" and stack:
                stack.pop()
            elif name == "POP":  # POP on an empty stack discards the last mark, as pickle does
                pop_mark()
            elif name == "POP_MARK":
                pop_mark()
            elif name in _ADD_ONE:
                add([stack.pop()])
            elif name in _ADD_PAIR:
                value, key = stack.pop(), stack.pop()
                add([key, value])
            elif name in _ADD_MARKED:
                add(pop_mark())
            elif name == "STOP":
                break
            else:
                _generic(op, stack, marks, node, pop_mark)
    except StructureError:
        raise
    except Exception as err:  # a bad opcode, cut short, stack underflow: not a pickle
        raise StructureError(f"its pickled data cannot be read ({type(err).__name__})") from None
    # Objects filled in after they were placed in others (through the memo) are not reflected in
    # their containers' heights above: the longest path through the whole graph is.
    depth = _longest_path(children)
    if depth > max_depth:
        raise too_deep()
    return PickleScan(ops, depth, stream.tell())


def _generic(op, stack: list[int], marks: list[int], node, pop_mark) -> None:
    """Any other opcode, from its declared stack effect: what it pops becomes one new node."""
    before, after = op.stack_before, op.stack_after
    if pickletools.markobject in before:
        popped = pop_mark()
        fixed = before.index(pickletools.markobject)  # items below the mark it also consumes
    else:
        popped, fixed = [], len(before)
    for _ in range(fixed):
        popped.append(stack.pop())
    if after:
        stack.append(node(popped) if popped else _ATOM)


def _longest_path(children: list[list[int]]) -> int:
    """The height of the tallest node (a node with no children has height 1), iteratively.

    A node met again while it is being measured closes a cycle (a list that contains itself);
    the cycle adds nothing, as a reader that handles cycles never descends around it twice.
    """
    height = [0] * len(children)
    state = bytearray(len(children))  # 0 new, 1 in progress, 2 done
    best = 0
    for root in range(len(children)):
        if state[root]:
            continue
        todo = [root]
        while todo:
            n = todo[-1]
            if state[n] == 0:
                state[n] = 1
                todo.extend(c for c in children[n] if state[c] == 0)
                continue
            todo.pop()
            if state[n] == 1:
                state[n] = 2
                height[n] = 1 + max((height[c] for c in children[n] if state[c] == 2), default=0)
                best = max(best, height[n])
    return best
