"""The three GRU conventions, named once.

The sources disagree on two independent choices (README, "The three conventions"):

* where the reset gate acts: *after* the recurrent matrix, r ⊙ (W_hn h + b_hn) (PyTorch, cuDNN,
  Keras ``reset_after=True``), or *before* it, W_hn (r ⊙ h) + b_hn (Cho et al. 2014);
* which side the update gate weighs: z ≈ 1 keeps h_{t-1} (PyTorch, Cho et al.) or z ≈ 1 takes the
  candidate h̃_t (Chung et al. 2014).

Everything that depends on the convention reads these two flags; nothing compares names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    name: str
    reset_after_matmul: bool
    """True: h̃ = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); False: W_hn (r ⊙ h) + b_hn."""
    z_keeps_old: bool
    """True: h = (1 − z) ⊙ h̃ + z ⊙ h_{t-1}; False: h = (1 − z) ⊙ h_{t-1} + z ⊙ h̃."""
    source: str

    @property
    def z_one_means(self) -> str:
        return "keep the old state h_{t-1}" if self.z_keeps_old else "take the new candidate h̃_t"

    @property
    def z_zero_means(self) -> str:
        return "take the new candidate h̃_t" if self.z_keeps_old else "keep the old state h_{t-1}"


PYTORCH = Convention("pytorch", reset_after_matmul=True, z_keeps_old=True,
                     source="torch.nn.GRU, cuDNN, Keras reset_after=True")
CHO2014 = Convention("cho2014", reset_after_matmul=False, z_keeps_old=True,
                     source="Cho et al. 2014 (arXiv 1406.1078), Keras reset_after=False")
CHUNG2014 = Convention("chung2014", reset_after_matmul=False, z_keeps_old=False,
                       source="Chung et al. 2014 (arXiv 1412.3555)")

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (PYTORCH, CHO2014, CHUNG2014)}


def get_convention(name: str | Convention) -> Convention:
    """Look a convention up by name; an unknown name is a ValueError listing the valid ones."""
    if isinstance(name, Convention):
        return name
    try:
        return CONVENTIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown convention {name!r}: expected one of {', '.join(CONVENTIONS)}"
        ) from None
