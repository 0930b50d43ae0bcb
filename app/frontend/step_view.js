// GRU Gate Lab: the step view, run in the browser.
//
// The server sends one message per view (app/step_payload.py says its layout): plotly figures built
// by app/figures.py, the recorded arrays, and the per-step sentences and equations as templates with
// slots. From then on stepping, Play, speed, the unit picked and the keyboard stay here: no message
// goes back to the server, and nothing is computed — every number drawn is a recorded one, picked
// out by step and unit. What moves with the step is drawn over the figures (an outline, a band),
// which costs a fraction of a millisecond where asking plotly to relayout costs tens to hundreds.

const MAGIC = "GRUSTEP1";
const views = new Map();   // root element -> mounted StepView (the keyboard goes to the active one)
let activeRoot = null;

// -- the message --------------------------------------------------------------------------------
export function decode(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const text = new TextDecoder();
  if (text.decode(u8.subarray(0, 8)) !== MAGIC) throw new Error("not a step view message");
  const n = new DataView(u8.buffer, u8.byteOffset + 8, 4).getUint32(0, true);
  const head = JSON.parse(text.decode(u8.subarray(12, 12 + n)));
  let start = 12 + n;
  start += (4 - (start % 4)) % 4;
  const body = u8.slice(start).buffer;   // a copy: the view Streamlit hands over may be misaligned
  const arrays = {};
  for (const [name, where] of Object.entries(head.arrays)) {
    const size = where.shape.reduce((a, b) => a * b, 1);
    arrays[name] = { data: new Float32Array(body, where.offset, size), shape: where.shape };
  }
  return { head, arrays };
}

// -- plotly.js, from this app's own server, loaded once per page ---------------------------------
// Streamlit gzips a .js file from app/static again on every request (level 9: half a second of the
// server's CPU for plotly.js before its first byte leaves), and sends no 304. So a browser that does
// not hold plotly.min.js yet fetches the gzipped copy made once at start (app/step_view.serve_plotly),
// sent as it lies on disk and a third of the bytes, and unpacks it here. A browser that holds the
// plain file loads that with a script tag: read from its cache, parsed off the main thread, and after
// a few loads compiled from V8's code cache (which a script made from unpacked bytes never gets; a
// reload took ~1 s longer that way on this machine). The plain file is put into the cache later: it
// costs the server one gzip (~0.5 s of CPU) per browser, so not while a class is opening the page
// together, and spread out, at a random moment one to three minutes after plotly.js was loaded.
const WARM_AFTER_MS = [60_000, 180_000];

function addScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}

async function inCache(src) {   // without asking the server
  try {
    const response = await fetch(src, { cache: "only-if-cached", mode: "same-origin" });
    if (response.body) response.body.cancel();
    return response.ok;
  } catch (e) {
    return false;
  }
}

async function unpacked(src) {
  const response = await fetch(`${src}.gz`);
  if (!response.ok) throw new Error(`could not load ${src}.gz`);
  const stream = response.body.pipeThrough(new DecompressionStream("gzip"));
  const code = await new Response(stream).blob();
  return URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
}

function warmCache(src) {
  const [low, high] = WARM_AFTER_MS;
  setTimeout(() => {
    const go = () => fetch(src, { priority: "low" }).then((r) => r.blob()).catch(() => {});
    if (window.requestIdleCallback) window.requestIdleCallback(go, { timeout: 10_000 }); else go();
  }, low + Math.random() * (high - low));
}

async function fetchPlotly(src) {
  const before = window.Plotly;
  let url = null, packed = false;
  try {
    if (typeof DecompressionStream === "function" && !(await inCache(src))) {
      try { url = await unpacked(src); } catch (e) { url = null; }
    }
    if (url) {
      try { await addScript(url); packed = true; } catch (e) { await addScript(src); }
    } else {
      await addScript(src);
    }
  } finally {
    if (url) URL.revokeObjectURL(url);
  }
  const ours = window.Plotly;
  if (before) window.Plotly = before;   // leave any other copy on the page as it was
  if (!ours) throw new Error(`no plotly.js in ${src}`);
  if (packed) warmCache(src);
  return ours;
}

function loadPlotly(src) {
  if (!window.__gruGateLabPlotly) {
    window.__gruGateLabPlotly = fetchPlotly(src).catch((e) => {
      window.__gruGateLabPlotly = null;
      throw e;
    });
  }
  return window.__gruGateLabPlotly;
}

// -- numbers as the equations write them --------------------------------------------------------
const MINUS = "\u2212";

function fixed(v, digits) {
  const s = v.toFixed(digits);
  return s.startsWith("-") ? MINUS + s.slice(1) : s;
}

function format(v, kind, digits) {
  switch (kind) {
    case "i": return fixed(v, 0);
    case "mark": return v ? "✓" : "✗";
    case "s": return (v < 0 ? MINUS : "+") + Math.abs(v).toFixed(3);
    case "p": { const s = fixed(v, digits); return s.startsWith(MINUS) ? `(${s})` : s; }
    default: return fixed(v, digits);
  }
}

// -- the view -----------------------------------------------------------------------------------
class StepView {
  constructor(parent, head, arrays) {
    this.head = head;
    this.arrays = arrays;
    this.T = head.steps;
    this.H = head.units;
    this.playing = false;
    this.frame = null;
    this.figs = [];
    this.storageKey = `gru-gate-lab:${location.pathname}:${head.name}`;
    this.speedKey = "gru-gate-lab:speed";
    this.root = this.build(parent);
    this.pathname = location.pathname;
    const saved = this.restore();
    this.t = saved.t;
    this.unit = saved.unit;
    this.speed = head.speeds[sessionStorage.getItem(this.speedKey)] ? sessionStorage.getItem(this.speedKey) : "normal";
    this.speedSelect.value = this.speed;
  }

  // where a view starts: the step this tab last showed for it, unless the server sends a new start
  // (a link that asks for another step)
  restore() {
    const start = this.head.start;
    let t = start.t, unit = start.unit;
    try {
      const saved = JSON.parse(sessionStorage.getItem(this.storageKey) || "null");
      if (saved && saved.from && saved.from[0] === start.t && saved.from[1] === start.unit) {
        t = saved.t;
        unit = saved.unit;
      }
    } catch (e) { /* storage may be off: start where the server says */ }
    return { t: this.clampT(t), unit: this.clampUnit(unit) };
  }

  clampT(t) { return Math.max(0, Math.min(this.T - 1, Math.round(Number(t)) || 0)); }
  clampUnit(u) { return Math.max(0, Math.min(this.H - 1, Math.round(Number(u)) || 0)); }

  el(tag, cls, parent, attrs = {}) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  build(parent) {
    const head = this.head;
    const root = this.el("div", "gsv" + (head.present ? " gsv-present" : ""), parent,
      { "data-testid": "step-view", "data-steps": this.T, "data-units": this.H, "data-name": head.name });
    root.style.setProperty("--gsv-outer", head.colours.outer);
    root.style.setProperty("--gsv-inner", head.colours.inner);
    root.style.setProperty("--gsv-unit", head.colours.unit);
    root.style.setProperty("--gsv-font", `${head.fontSize}px`);

    const bar = this.el("div", "gsv-bar", root);
    this.buttons = {};
    for (const [action, label, glyph, key, what] of [
      ["first", "First", "«", "Home", "the first step"], ["prev", "Prev", "‹", "←", "the previous step"],
      ["next", "Next", "›", "→", "the next step"], ["last", "Last", "»", "End", "the last step"]]) {
      const b = this.el("button", "gsv-button", bar, { type: "button", "data-action": action,
        title: `Go to ${what} (key: ${key})` });
      const icon = `<span aria-hidden="true">${glyph}</span>`;   // the button's name is the word alone
      b.innerHTML = action === "next" || action === "last" ? `${label} ${icon}` : `${icon} ${label}`;
      b.addEventListener("click", () => { this.stop(); this.go(action); });
      this.buttons[action] = b;
    }
    this.playButton = this.el("button", "gsv-button gsv-primary", bar,
      { type: "button", "data-action": "play", title: "Advance one step at a time on its own (key: Space)" });
    this.playButton.addEventListener("click", () => this.toggle());
    const speedLabel = this.el("label", "gsv-speed", bar);
    speedLabel.append("Speed ");
    this.speedSelect = this.el("select", "", speedLabel, { "aria-label": "Speed" });
    for (const [name, rate] of Object.entries(head.speeds)) {
      const o = this.el("option", "", this.speedSelect, { value: name });
      o.textContent = `${name} (${rate} step${rate === 1 ? "" : "s"}/s)`;
    }
    this.speedSelect.addEventListener("change", () => {
      this.speed = this.speedSelect.value;
      try { sessionStorage.setItem(this.speedKey, this.speed); } catch (e) { /* not kept */ }
    });

    const slide = this.el("label", "gsv-slider", root);
    this.stepLabel = this.el("span", "gsv-step-label", slide);
    this.slider = this.el("input", "", slide, { type: "range", min: 0, max: Math.max(0, this.T - 1), step: 1,
      "aria-label": "Time step t" });
    this.slider.disabled = this.T < 2;
    this.slider.addEventListener("input", () => { this.stop(); this.show(Number(this.slider.value), this.unit); });

    const unitRow = this.el("label", "gsv-unit", root);
    const unitWhat = head.equations ? "Unit whose equations are written out" : "Unit whose row is marked";
    unitRow.append(`${unitWhat} (0–${this.H - 1}) `);
    this.unitInput = this.el("input", "", unitRow, { type: "number", min: 0, max: this.H - 1, step: 1,
      "aria-label": unitWhat });
    this.unitInput.addEventListener("input", () => {
      if (this.unitInput.value === "") return;
      this.show(this.t, this.clampUnit(this.unitInput.value));
    });
    const unitShown = head.equations || head.figures.some((f) => f.id === "heatmaps");
    if (this.H < 2 || head.present || !unitShown) unitRow.hidden = true;

    this.figs = head.figures.map((f) => {
      const box = this.el("div", "gsv-figure", root, { "data-figure": f.id });
      if (f.id === "blend") {
        this.blendTitle = this.el("div", "gsv-blend-title", box);
      }
      const plot = this.el("div", "gsv-plot", box);
      const layer = this.el("div", "gsv-overlay", plot);
      const columns = f.columns.map(() => this.el("div", "gsv-column", layer));
      const rows = f.rows.map(() => this.el("div", f.id === "blend" ? "gsv-band" : "gsv-row", layer));
      if (f.id === "top" && head.sentence) this.sentence = this.el("div", "gsv-sentence", root);
      return { spec: f, box, plot, layer, columns, rows };
    });
    if (head.equations) {
      const eq = this.el("div", "gsv-equations", root);
      this.eqHeading = this.el("div", "gsv-eq-heading", eq);
      this.eqNote = this.el("div", "gsv-eq-note", eq);
      this.eqLines = head.equations.lines.map((line) => {
        const box = this.el("div", "gsv-eq-line", eq);
        this.el("div", "gsv-eq-caption", box).textContent = line.caption;
        this.el("div", "gsv-eq-symbolic", box).innerHTML = line.symbolic;
        return this.el("div", "gsv-eq-numeric", box);
      });
    }
    this.message = this.el("div", "gsv-message", root, { role: "status" });
    root.addEventListener("pointerdown", () => { activeRoot = root; });
    root.addEventListener("focusin", () => { activeRoot = root; });
    return root;
  }

  // -- recorded values, picked out ----------------------------------------------------------------
  value(name, t, unit) {
    const a = this.arrays[name];
    return a.shape.length === 1 ? a.data[t] : a.data[unit * this.T + t];
  }

  column(name, t) {   // every row of a unit-major array at step t
    const a = this.arrays[name];
    const rows = a.shape[0], out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) out[r] = a.data[r * this.T + t];
    return out;
  }

  rows(name) {
    const a = this.arrays[name];
    const out = [];
    for (let r = 0; r < a.shape[0]; r++) out.push(a.data.subarray(r * this.T, (r + 1) * this.T));
    return out;
  }

  fill(template, t, unit) {
    const digits = this.head.digits;
    return template.replace(/\{([a-z_]+)(?::([a-z]+))?\}/g, (_, name, kind) => {
      if (name === "t") return String(t);
      if (name === "unit") return String(unit);
      if (!(name in this.arrays)) return `{${name}}`;
      if (kind === "vec") {
        const col = Array.from(this.column(name, t));
        const shown = col.slice(0, 6).map((v) => (Number.isInteger(v) ? fixed(v, 0) : fixed(v, digits)));
        return `<span class="gsv-v" data-slot="${name}">${shown.join(", ")}${col.length > 6 ? ", …" : ""}</span>`;
      }
      return `<span class="gsv-v" data-slot="${name}">${format(this.value(name, t, unit), kind, digits)}</span>`;
    });
  }

  // -- drawing ------------------------------------------------------------------------------------
  async draw() {
    let Plotly;
    try {
      Plotly = await loadPlotly(this.head.plotly);
    } catch (e) {
      this.message.textContent = "The step view could not load its drawing library from this app's server. "
        + "Reload the page; if it stays, tell whoever runs the app.";
      return;
    }
    if (!this.root.isConnected) return;
    this.Plotly = Plotly;
    const config = { ...this.head.config, responsive: true };
    for (const f of this.figs) {
      const { data, layout } = f.spec.figure;
      for (const trace of data) {
        if (trace.z && trace.z.$rows) trace.z = this.rows(trace.z.$rows);
      }
      delete layout.width;
      layout.autosize = true;
      await Plotly.newPlot(f.plot, data, layout, config);
      if (!this.root.isConnected) return;
      f.plot.on("plotly_afterplot", () => this.place(f));
      if (f.spec.id === "heatmaps") {
        f.plot.on("plotly_click", (ev) => {
          const p = ev && ev.points && ev.points[0];
          if (p) { this.stop(); activeRoot = this.root; this.show(this.clampT(p.x), this.clampUnit(p.y)); }
        });
      }
    }
    this.drawn = true;
    this.root.dataset.ready = "1";
    this.show(this.t, this.unit, true);
  }

  place(f) {
    const full = f.plot._fullLayout;
    if (!full) return;
    f.spec.columns.forEach(([xn, yn], i) => this.placeColumn(f.columns[i], full[xn], full[yn]));
    f.spec.rows.forEach(([xn, yn], i) => this.placeRow(f.rows[i], full[xn], full[yn]));
  }

  placeColumn(el, xa, ya) {
    if (!xa || !ya) return;
    const a = xa.l2p(this.t - 0.5), b = xa.l2p(this.t + 0.5);
    const left = Math.max(xa._offset + Math.min(a, b), xa._offset);
    const right = Math.min(xa._offset + Math.max(a, b), xa._offset + xa._length);
    this.move(el, left, ya._offset, right - left, ya._length);
  }

  placeRow(el, xa, ya) {
    if (!xa || !ya) return;
    const a = ya.l2p(this.unit - 0.5), b = ya.l2p(this.unit + 0.5);
    const top = Math.max(ya._offset + Math.min(a, b), ya._offset);
    const bottom = Math.min(ya._offset + Math.max(a, b), ya._offset + ya._length);
    this.move(el, xa._offset, top, xa._length, bottom - top);
  }

  // an overlay moves by a transform only (the compositor's work: no layout, no repaint of the
  // figure beneath); its size changes only when the figure is zoomed or resized
  move(el, x, y, w, h) {
    if (!(w > 0 && h > 0)) { el.style.display = "none"; return; }
    const size = `${w.toFixed(1)}x${h.toFixed(1)}`;
    if (el._size !== size) { el.style.width = `${w}px`; el.style.height = `${h}px`; el._size = size; }
    el.style.transform = `translate(${x}px, ${y}px)`;
    if (el.style.display !== "block") el.style.display = "block";
  }

  // step t's values for each trace of a figure that moves with the step (figures.BLEND_STEP_DATA)
  stepData(f, t) {
    return f.spec.bind.map((entry) => {
      const update = {};
      for (const [attr, src] of Object.entries(entry)) {
        if (Array.isArray(src)) {   // interleave unit by unit; null is a gap
          const cols = src.map((name) => (name ? this.column(name, t) : null));
          const out = new Float32Array(this.H * src.length);
          for (let u = 0; u < this.H; u++) {
            cols.forEach((c, k) => { out[u * src.length + k] = c ? c[u] : NaN; });
          }
          update[attr] = out;
        } else {
          update[attr] = this.column(src, t);
        }
      }
      return update;
    });
  }

  updateBlend(f, t) {
    const data = this.stepData(f, t);
    if (this.moveMarks(f, data)) return;
    this.Plotly.animate(f.plot, { data, traces: data.map((_, i) => i) }, { mode: "immediate",
      transition: { duration: 0 }, frame: { duration: 0, redraw: false } });
  }

  // The fast path: the blend's marks are moved where plotly drew them (one transform or path per
  // unit), and plotly's own records of the values are updated so hovers read the new numbers.
  // Asking plotly to re-plot the figure costs 20-60 ms a step here; this, well under 1 ms. When the
  // figure is not laid out as expected (another plotly version), plotly re-plots it after all.
  moveMarks(f, data) {
    const gd = f.plot, full = gd._fullLayout;
    const xa = full && full.xaxis, ya = full && full.yaxis;
    const groups = gd.querySelectorAll(".scatterlayer .trace");
    if (!xa || !ya || !gd.calcdata || groups.length !== data.length) return false;
    const H = this.H;
    const marks = data.map((update, i) => (Array.isArray(f.spec.bind[i].x)
      ? groups[i].querySelectorAll("path.js-line") : groups[i].querySelectorAll("path.point")));
    if (marks.some((m) => m.length !== H)) return false;
    data.forEach((update, i) => {
      const x = update.x, cd = gd.calcdata[i];
      if (Array.isArray(f.spec.bind[i].x)) {
        const n = f.spec.bind[i].x.length;
        for (let u = 0; u < H; u++) {
          const y = ya.c2p(u);
          marks[i][u].setAttribute("d", `M${xa.c2p(x[u * n])},${y}L${xa.c2p(x[u * n + 1])},${y}`);
        }
      } else {
        for (let u = 0; u < H; u++) {
          marks[i][u].setAttribute("transform", `translate(${xa.c2p(x[u])},${ya.c2p(cd[u].y)})`);
          cd[u].x = x[u];
        }
      }
      for (const [attr, values] of Object.entries(update)) {
        gd.data[i][attr] = values;
        if (gd._fullData[i]) gd._fullData[i][attr] = values;
      }
    });
    return true;
  }

  show(t, unit, force = false) {
    t = this.clampT(t);
    unit = this.clampUnit(unit);
    const stepChanged = force || t !== this.t;
    this.t = t;
    this.unit = unit;
    const head = this.head;
    this.slider.value = String(t);
    this.stepLabel.textContent = `Time step t = ${t} of ${this.T - 1}`;
    if (document.activeElement !== this.unitInput) this.unitInput.value = String(unit);
    this.buttons.first.disabled = this.buttons.prev.disabled = t === 0;
    this.buttons.next.disabled = this.buttons.last.disabled = t === this.T - 1;
    this.playButton.textContent = this.playing ? "Pause" : "Play";
    this.playButton.setAttribute("aria-label", this.playing ? "Pause" : "Play");
    this.playButton.disabled = this.T < 2;
    if (this.drawn) {
      for (const f of this.figs) {
        this.place(f);
        if (f.spec.bind && stepChanged) this.updateBlend(f, t);
      }
    }
    if (this.blendTitle && head.blendTitle) this.blendTitle.innerHTML = this.fill(head.blendTitle, t, unit);
    if (this.sentence) this.sentence.innerHTML = this.fill(head.sentence, t, unit);
    if (head.equations) {
      this.eqHeading.innerHTML = this.fill(head.equations.heading, t, unit);
      this.eqNote.innerHTML = t === 0 ? head.equations.startNote : "";
      head.equations.lines.forEach((line, i) => { this.eqLines[i].innerHTML = this.fill(line.numeric, t, unit); });
    }
    const d = this.root.dataset;
    d.t = String(t);
    d.unit = String(unit);
    d.playing = this.playing ? "1" : "0";
    this.remember();
  }

  remember() {
    const start = this.head.start;
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify({ t: this.t, unit: this.unit, from: [start.t, start.unit] }));
    } catch (e) { /* not kept: the link still is */ }
    if (this.head.link) {
      const now = performance.now();
      if (!this.playing || !this.urlAt || now - this.urlAt > 250) { this.urlAt = now; writeUrl(this); }
    }
  }

  go(action) {
    const t = { first: 0, prev: this.t - 1, next: this.t + 1, last: this.T - 1 }[action];
    this.show(t, this.unit);
  }

  // -- playing: one step per interval of the chosen speed, drawn on the display's frames --------
  toggle() { if (this.playing) this.stop(); else this.play(); }

  play() {
    if (this.T < 2) return;
    if (this.t >= this.T - 1) this.show(0, this.unit);   // play from the start when at the end
    this.playing = true;
    let last = performance.now();
    const tick = (now) => {
      if (!this.playing) return;
      const interval = 1000 / this.head.speeds[this.speed];
      if (now - last >= interval) {
        last = now - last > 2 * interval ? now : last + interval;   // no catching up after a stall
        if (this.t >= this.T - 1) { this.stop(); return; }
        this.show(this.t + 1, this.unit);
        if (this.t >= this.T - 1) { this.stop(); return; }
      }
      this.frame = requestAnimationFrame(tick);
    };
    this.show(this.t, this.unit);
    this.frame = requestAnimationFrame(tick);
  }

  stop() {
    const was = this.playing;
    this.playing = false;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = null;
    if (was) this.show(this.t, this.unit);
  }

  destroy() {
    this.stop();
    if (this.Plotly) for (const f of this.figs) this.Plotly.purge(f.plot);
    this.root.remove();
  }
}

// -- the URL follows the step of a linked view ---------------------------------------------------
// Streamlit rewrites the query string whenever the script changes a parameter; the server does not
// know the step (it never hears of it), so the step's parameters are put back after each rewrite.
const nativeReplace = history.replaceState.bind(history);

function writeUrl(view) {
  if (!view.root.isConnected || location.pathname !== view.pathname) return;
  const url = new URL(location.href);
  if (url.searchParams.get("t") === String(view.t) && url.searchParams.get("unit") === String(view.unit)) return;
  url.searchParams.set("t", String(view.t));
  url.searchParams.set("unit", String(view.unit));
  nativeReplace(history.state, "", url.toString());
}

if (!window.__gruGateLabHistory) {
  window.__gruGateLabHistory = true;
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method].bind(history);
    history[method] = function (...args) {
      const result = original(...args);
      for (const view of views.values()) if (view.head.link) writeUrl(view);
      return result;
    };
  }
}

// -- the keyboard: ← → Home End Space (and a clicker's Page Up / Page Down) -----------------------
function activeView() {
  if (activeRoot && views.has(activeRoot) && activeRoot.isConnected) return views.get(activeRoot);
  for (const [root, view] of views) if (root.isConnected && root.offsetParent !== null) return view;
  return null;
}

const KEYS = { ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev", Home: "first", End: "last" };

function onKey(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  const inside = target && target.closest ? target.closest(".gsv") : null;
  const tag = target && target.tagName;
  const typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  if (typing && !(inside && target.type === "range")) return;   // keys belong to what is being typed in
  const view = inside ? views.get(inside) : activeView();
  if (!view) return;
  if (event.key === " " || event.key === "Spacebar") {
    view.toggle();
  } else if (KEYS[event.key]) {
    if (inside && target.type === "range") return;   // the slider moves itself, and says so
    if (!view.head.clicker && event.key.startsWith("Page")) return;   // the page's own steps (a lesson's)
    view.stop();
    view.go(KEYS[event.key]);
  } else {
    return;
  }
  event.preventDefault();
}

function onKeyUp(event) {   // a focused button would also "click" on Space's release
  if ((event.key === " " || event.key === "Spacebar") && event.target && event.target.closest
      && event.target.closest(".gsv") && event.target.tagName === "BUTTON") event.preventDefault();
}

if (!window.__gruGateLabKeys) {
  window.__gruGateLabKeys = true;
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", onKeyUp);
}

// -- Streamlit's entry point: called with each new message; returns what to do when it goes -------
const mounted = new WeakMap();   // parent element -> what was drawn in it

function unmount(parentElement) {
  const previous = mounted.get(parentElement);
  if (previous) {
    mounted.delete(parentElement);
    previous();
  }
}

// -- a figure alone (step_view.figure): the same plotly.js, no steps --------------------------------
function mountFigure(parentElement, bytes) {
  const box = document.createElement("div");
  box.className = "gsv-figure gsv-alone";
  const plot = document.createElement("div");
  plot.className = "gsv-plot";
  box.appendChild(plot);
  parentElement.appendChild(box);
  let head = null, Plotly = null, gone = false;
  const fail = (text) => {
    const message = document.createElement("div");
    message.className = "gsv-message";
    message.textContent = text;
    box.appendChild(message);
  };
  try {
    head = JSON.parse(new TextDecoder().decode(bytes.subarray(8)));
    box.setAttribute("data-testid", "step-view-figure");
    box.dataset.name = head.name;
  } catch (e) {
    fail("This figure could not be read from what the server sent. Reload the page.");
  }
  if (head) {
    loadPlotly(head.plotly).then(async (P) => {
      if (gone) return;
      Plotly = P;
      const { data, layout } = head.figure;
      delete layout.width;
      layout.autosize = true;
      await P.newPlot(plot, data, layout, { ...head.config, responsive: true });
      if (!gone) box.dataset.ready = "1";
    }).catch(() => {
      if (!gone) fail("This figure could not load its drawing library from this app's server. Reload the page.");
    });
  }
  mounted.set(parentElement, () => {
    gone = true;
    if (Plotly) Plotly.purge(plot);
    box.remove();
  });
  return () => unmount(parentElement);
}

export default function ({ data, parentElement }) {
  // Streamlit may call this again with new data in the same place without the previous cleanup
  // (seen in a fragment's rerun): take the old view down first, or the views pile up
  unmount(parentElement);
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data || []);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic === "GRUSTEP0") {   // step_view.preload
    loadPlotly(new TextDecoder().decode(bytes.subarray(8))).catch(() => {});
    return () => {};
  }
  if (magic === "GRUFIG01") return mountFigure(parentElement, bytes);   // step_view.figure
  let view;
  try {
    const { head, arrays } = decode(data);
    view = new StepView(parentElement, head, arrays);
  } catch (e) {
    const box = document.createElement("div");
    box.className = "gsv-message";
    box.textContent = "The step view could not read what the server sent. Reload the page.";
    parentElement.appendChild(box);
    const remove = () => box.remove();
    mounted.set(parentElement, remove);
    return () => unmount(parentElement);
  }
  views.set(view.root, view);
  view.show(view.t, view.unit, true);
  view.draw();
  mounted.set(parentElement, () => {
    views.delete(view.root);
    if (activeRoot === view.root) activeRoot = null;
    view.destroy();
  });
  return () => unmount(parentElement);
}
