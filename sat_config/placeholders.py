"""Offline stand-ins for the parts of stable-audio-tools that download weights or tokenizers while building.

``network_placeholders()`` patches the download points — and only inside its ``with`` block — so that upstream's
own constructors run unchanged around them:

========================  ===================================================  ===================================
type                      download point replaced                              stand-in
========================  ===================================================  ===================================
``t5``                    ``transformers.T5EncoderModel/AutoTokenizer``        encoder of the model's width, no
                          ``.from_pretrained``                                 weights; word-level tokenizer
``lut``                   ``transformers.AutoTokenizer.from_pretrained``       tokenizer of PLACEHOLDER_VOCAB_SIZE
``clap_text``             the ``laion_clap`` module; ``clap_load_state_dict``  CLAP of the same widths, no weights
``phoneme``               the ``g2p_en`` module                                g2p_en's phoneme table, no model
``dac_pretrained``        ``dac.utils.download`` and ``dac.DAC.load``          descript's published architecture,
                                                                               random weights
``audiocraft_pretrained`` the ``audiocraft.models`` module                     codec of the same rates and
                                                                               codebooks, no weights
========================  ===================================================  ===================================

Every stand-in produces outputs of the real shape. Each one carries a ``Replacement`` (``sat_placeholder``
attribute) saying what it stands for and whether its parameter count is the real one. Modules that are not
imported yet are patched the moment they are imported inside the block (an import hook), so entering the block
costs nothing for models that never use them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

PLACEHOLDER_VOCAB_SIZE = 32000
"""Vocabulary size of a stand-in tokenizer (the real one is unknown offline); sizes a ``lut`` embedding table."""


@dataclass(frozen=True)
class Replacement:
    """One downloaded piece replaced by a stand-in: what it is, which one, and how faithful its size is."""

    kind: str  # t5, tokenizer, clap, phoneme, dac_pretrained or audiocraft_pretrained
    what: str  # e.g. "T5 encoder 't5-base'"
    counted: bool  # True when the stand-in has the real parameter count
    note: str = ""


def _mark(obj: Any, replacement: Replacement, log: list[Replacement]) -> Any:
    object.__setattr__(obj, "sat_placeholder", replacement)
    log.append(replacement)
    return obj


class _DtypeProbe(nn.Module):
    """A parameter-free module that remembers the dtype it was cast to (``.to(torch.float16)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("_probe", torch.empty(0), persistent=False)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.buffers()).dtype


# --- transformers: t5 and lut ---------------------------------------------------------------------------------


class PlaceholderTokenizer:
    """Splits text on whitespace; one id per word; pads and truncates like a Hugging Face tokenizer."""

    def __init__(self, name: str, vocab_size: int = PLACEHOLDER_VOCAB_SIZE) -> None:
        self.name = name
        self.vocab_size = vocab_size
        self.additional_special_tokens: list[str] = []

    def __len__(self) -> int:
        return self.vocab_size + len(self.additional_special_tokens)

    def add_special_tokens(self, tokens: dict[str, list[str]]) -> int:
        new = [t for t in tokens.get("additional_special_tokens", []) if t not in self.additional_special_tokens]
        self.additional_special_tokens += new
        return len(new)

    def __call__(self, texts: Any, truncation: bool = True, max_length: int | None = None,
                 padding: Any = "max_length", return_tensors: str | None = "pt", **_: Any) -> dict[str, Any]:
        texts = [texts] if isinstance(texts, str) else list(texts)
        words = [str(t).split() for t in texts]
        longest = max((len(w) for w in words), default=0)
        length = max_length if (padding == "max_length" and max_length) else longest
        if truncation and max_length:
            length = min(length, max_length)
        ids = torch.zeros(len(texts), length, dtype=torch.long)
        mask = torch.zeros(len(texts), length, dtype=torch.long)
        for row, w in enumerate(words):
            n = min(len(w), length)
            ids[row, :n] = torch.tensor([1 + sum(map(ord, word)) % (self.vocab_size - 1) for word in w[:n]])
            mask[row, :n] = 1
        return {"input_ids": ids, "attention_mask": mask}


class PlaceholderT5Encoder(_DtypeProbe):
    """Returns ``last_hidden_state`` of shape [batch, tokens, width] (zeros); has no weights."""

    def __init__(self, name: str, width: int) -> None:
        super().__init__()
        self.name, self.width = name, width

    def forward(self, input_ids: torch.Tensor, attention_mask: Any = None, **_: Any) -> dict[str, torch.Tensor]:
        shape = (*input_ids.shape, self.width)
        return {"last_hidden_state": torch.zeros(shape, dtype=self.dtype, device=input_ids.device)}


def _t5_width(name: str) -> int:
    from stable_audio_tools.models.conditioners import T5Conditioner

    return int(T5Conditioner.T5_MODEL_DIMS[name])


def _transformers_patches(log: list[Replacement]) -> dict[str, Any]:
    class AutoTokenizer:
        @staticmethod
        def from_pretrained(name: str, *_: Any, **__: Any) -> PlaceholderTokenizer:
            replacement = Replacement("tokenizer", f"tokenizer {name!r}", counted=True,
                                      note=f"vocabulary unknown offline, taken as {PLACEHOLDER_VOCAB_SIZE:,} tokens")
            return _mark(PlaceholderTokenizer(name), replacement, log)  # type: ignore[no-any-return]

    class T5EncoderModel:
        @staticmethod
        def from_pretrained(name: str, *_: Any, **__: Any) -> PlaceholderT5Encoder:
            width = _t5_width(name)
            replacement = Replacement("t5", f"T5 encoder {name!r}", counted=False,
                                      note=f"{width}-wide output, weights not counted")
            return _mark(PlaceholderT5Encoder(name, width), replacement, log)  # type: ignore[no-any-return]

    return {"AutoTokenizer": AutoTokenizer, "T5EncoderModel": T5EncoderModel}


# --- laion_clap: clap_text (and the broken clap_audio) ----------------------------------------------------------

CLAP_TEXT_LAYERS = 13  # roberta-base: embeddings + 12 layers of hidden states
CLAP_TEXT_FEATURES = 768
CLAP_EMBEDDING = 512


class _PlaceholderClapText(nn.Module):
    def forward(self, input_ids: torch.Tensor, attention_mask: Any = None, output_hidden_states: bool = False,
                **_: Any) -> dict[str, Any]:
        hidden = torch.zeros(*input_ids.shape, CLAP_TEXT_FEATURES, device=input_ids.device)
        return {"hidden_states": tuple(hidden for _ in range(CLAP_TEXT_LAYERS)), "last_hidden_state": hidden}


class PlaceholderClapModule(nn.Module):
    """``laion_clap.CLAP_Module``: text features 768 wide, embeddings 512 wide (zeros); no weights."""

    def __init__(self, enable_fusion: bool = False, device: Any = None, amodel: str = "HTSAT-tiny",
                 tmodel: str = "roberta") -> None:
        super().__init__()
        self.enable_fusion, self.amodel, self.tmodel = enable_fusion, amodel, tmodel
        self.model = nn.Module()
        self.model.text_branch = _PlaceholderClapText()
        self.model.audio_branch = nn.Module()

    def tokenizer(self, texts: Any) -> dict[str, Any]:
        return PlaceholderTokenizer("roberta-base")(texts, max_length=77)

    def get_text_embedding(self, texts: Any, tokenizer: Any = None, use_tensor: bool = False) -> Any:
        out = torch.zeros(len(texts), CLAP_EMBEDDING)
        return out if use_tensor else out.numpy()

    def get_audio_embedding_from_data(self, x: Any, use_tensor: bool = False) -> Any:
        out = torch.zeros(len(x), CLAP_EMBEDDING)
        return out if use_tensor else out.numpy()


def _laion_clap_module(log: list[Replacement]) -> types.ModuleType:
    def clap_module(*args: Any, **kwargs: Any) -> PlaceholderClapModule:
        module = PlaceholderClapModule(*args, **kwargs)
        replacement = Replacement("clap", f"CLAP model ({module.amodel}, fusion={module.enable_fusion})",
                                  counted=False, note="text features 768 / embedding 512 wide, weights not counted")
        return _mark(module, replacement, log)  # type: ignore[no-any-return]

    module = _module("laion_clap", "sat-config placeholder for laion_clap (no downloads)")
    module.CLAP_Module = clap_module  # type: ignore[attr-defined]
    return module


def _skip_clap_checkpoint(clap_ckpt_path: Any, clap_model: Any) -> None:
    """Stand-in for ``clap_load_state_dict``: the checkpoint is not read."""


# --- g2p_en: phoneme -------------------------------------------------------------------------------------------

# g2p_en 2.1.0 G2p.phonemes: 4 special tokens and the 70 ARPAbet symbols it predicts.
G2P_PHONEMES = ["<pad>", "<unk>", "<s>", "</s>"] + [
    "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0", "AH1", "AH2", "AO0", "AO1", "AO2", "AW0", "AW1", "AW2",
    "AY0", "AY1", "AY2", "B", "CH", "D", "DH", "EH0", "EH1", "EH2", "ER0", "ER1", "ER2", "EY0", "EY1", "EY2",
    "F", "G", "HH", "IH0", "IH1", "IH2", "IY0", "IY1", "IY2", "JH", "K", "L", "M", "N", "NG", "OW0", "OW1",
    "OW2", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T", "TH", "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2",
    "V", "W", "Y", "Z", "ZH",
]


class PlaceholderG2p:
    """``g2p_en.G2p`` with the real phoneme table; maps each letter to 'AH0' (no pronunciation model)."""

    def __init__(self) -> None:
        self.phonemes = list(G2P_PHONEMES)
        self.p2idx = {p: i for i, p in enumerate(self.phonemes)}

    def __call__(self, text: str) -> list[str]:
        return ["AH0" if ch.isalpha() else " " for ch in text]


def _g2p_en_module(log: list[Replacement]) -> types.ModuleType:
    def g2p() -> PlaceholderG2p:
        replacement = Replacement("phoneme", "g2p_en grapheme-to-phoneme model", counted=True,
                                  note="real phoneme table, no pronunciation model")
        return _mark(PlaceholderG2p(), replacement, log)  # type: ignore[no-any-return]

    module = _module("g2p_en", "sat-config placeholder for g2p_en (no downloads)")
    module.G2p = g2p  # type: ignore[attr-defined]
    return module


# --- dac: dac_pretrained --------------------------------------------------------------------------------------

# descript-audio-codec's published model configs (conf/final/*.yml), keyed by (model_type, model_bitrate).
DAC_ARCHITECTURES: dict[tuple[str, str], dict[str, Any]] = {
    ("44khz", "8kbps"): {"sample_rate": 44100, "encoder_rates": [2, 4, 8, 8], "decoder_rates": [8, 8, 4, 2],
                         "n_codebooks": 9},
    ("44khz", "16kbps"): {"sample_rate": 44100, "encoder_rates": [2, 4, 8, 8], "decoder_rates": [8, 8, 4, 2],
                          "latent_dim": 128, "n_codebooks": 18},
    ("24khz", "8kbps"): {"sample_rate": 24000, "encoder_rates": [2, 4, 5, 8], "decoder_rates": [8, 5, 4, 2],
                         "n_codebooks": 32},
    ("16khz", "8kbps"): {"sample_rate": 16000, "encoder_rates": [2, 4, 5, 8], "decoder_rates": [8, 5, 4, 2],
                         "n_codebooks": 12},
}


@dataclass(frozen=True)
class _DACWeights:
    """What the stand-in ``dac.utils.download`` returns instead of the path of a downloaded file."""

    model_type: str
    model_bitrate: str
    tag: str


def _dac_patches(dac: Any, log: list[Replacement]) -> tuple[dict[str, Any], dict[str, Any]]:
    utils = dac.utils
    latest_tags, urls = utils.__MODEL_LATEST_TAGS__, utils.__MODEL_URLS__
    real_load = dac.DAC.load

    def download(model_type: str = "44khz", model_bitrate: str = "8kbps", tag: str = "latest") -> _DACWeights:
        """``dac.utils.download``'s checks, without the download."""
        model_type, tag = model_type.lower(), tag.lower()
        assert model_type in ["44khz", "24khz", "16khz"], "model_type must be one of '44khz', '24khz', or '16khz'"
        assert model_bitrate in ["8kbps", "16kbps"], "model_bitrate must be one of '8kbps', or '16kbps'"
        if tag == "latest":
            tag = latest_tags[(model_type, model_bitrate)]
        if (model_type, tag, model_bitrate) not in urls:
            raise ValueError(f"Could not find model with tag {tag} and model type {model_type}")
        return _DACWeights(model_type, model_bitrate, tag)

    def load(cls: Any, location: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(location, _DACWeights):
            return real_load.__func__(cls, location, *args, **kwargs)
        model = cls(**DAC_ARCHITECTURES[(location.model_type, location.model_bitrate)])
        replacement = Replacement("dac_pretrained", f"DAC {location.model_type} {location.model_bitrate}", counted=True,
                                  note="published architecture, random weights")
        return _mark(model, replacement, log)

    return {"download": download}, {"load": classmethod(load)}


# --- audiocraft: audiocraft_pretrained -------------------------------------------------------------------------

# (sample_rate, frame_rate, channels, num_codebooks, cardinality) of the codecs audiocraft's
# CompressionModel.get_pretrained knows by name (Hugging Face configs of facebook/encodec_*, DAC above).
AUDIOCRAFT_CODECS: dict[str, tuple[int, float, int, int, int]] = {
    "facebook/encodec_32khz": (32000, 50, 1, 4, 2048),
    "facebook/encodec_24khz": (24000, 75, 1, 32, 1024),
    "dac_44khz": (44100, 44100 / 512, 1, 9, 1024),
    "dac_24khz": (24000, 75, 1, 32, 1024),
}


class PlaceholderCompressionModel(_DtypeProbe):
    """An audiocraft ``CompressionModel``: the real rates and codebooks; tokens and audio are zeros."""

    def __init__(self, name: str, sample_rate: int, frame_rate: float, channels: int, num_codebooks: int,
                 cardinality: int) -> None:
        super().__init__()
        self.name, self.sample_rate, self.frame_rate, self.channels = name, sample_rate, frame_rate, channels
        self.num_codebooks, self.cardinality = num_codebooks, cardinality

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        frames = -(-x.shape[-1] * self.frame_rate // self.sample_rate)
        return torch.zeros(x.shape[0], self.num_codebooks, int(frames), dtype=torch.long, device=x.device), None

    def decode(self, codes: torch.Tensor, scale: Any = None) -> torch.Tensor:
        samples = round(codes.shape[-1] * self.sample_rate / self.frame_rate)
        return torch.zeros(codes.shape[0], self.channels, samples, dtype=self.dtype, device=codes.device)


class PlaceholderUnavailableError(RuntimeError):
    """No offline stand-in is known for a pretrained piece the config names."""


def _audiocraft_modules(log: list[Replacement]) -> dict[str, types.ModuleType]:
    class CompressionModel:
        @staticmethod
        def get_pretrained(name: str, device: Any = "cpu") -> PlaceholderCompressionModel:
            if name not in AUDIOCRAFT_CODECS:
                raise PlaceholderUnavailableError(
                    f"audiocraft_pretrained model {name!r} has no offline stand-in (known: "
                    f"{', '.join(AUDIOCRAFT_CODECS)}); build it with network access instead")
            replacement = Replacement("audiocraft_pretrained", f"audiocraft codec {name!r}", counted=False,
                                      note="real rates and codebooks, weights not counted")
            model = PlaceholderCompressionModel(name, *AUDIOCRAFT_CODECS[name])
            return _mark(model, replacement, log)  # type: ignore[no-any-return]

    package = _module("audiocraft", "sat-config placeholder for audiocraft (no downloads)", package=True)
    models = _module("audiocraft.models", "sat-config placeholder for audiocraft.models")
    models.CompressionModel = CompressionModel  # type: ignore[attr-defined]
    package.models = models  # type: ignore[attr-defined]
    return {"audiocraft": package, "audiocraft.models": models}


# --- patching machinery ---------------------------------------------------------------------------------------


def _module(name: str, doc: str, package: bool = False) -> types.ModuleType:
    """A stand-in module with a spec (``importlib.util.find_spec`` probes, e.g. by transformers, need one)."""
    module = types.ModuleType(name, doc)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=package)
    if package:
        module.__path__ = []
    return module

_MISSING = object()


class _Patches:
    """Attribute and ``sys.modules`` changes that are undone in reverse order."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def setattrs(self, target: Any, values: dict[str, Any]) -> None:
        for name, value in values.items():
            self._swap(vars(target), name, value, partial(setattr, target), partial(delattr, target))

    def modules(self, values: dict[str, types.ModuleType]) -> None:
        for name, module in values.items():
            self._swap(sys.modules, name, module, sys.modules.__setitem__, sys.modules.__delitem__)

    def _swap(self, current: Any, name: str, value: Any, put: Callable[[str, Any], None],
              remove: Callable[[str], None]) -> None:
        # read the old value from the namespace dict: never trigger a lazy module's __getattr__ (transformers)
        old = current.get(name, _MISSING)
        put(name, value)

        def undo() -> None:
            if old is _MISSING:
                remove(name)
            else:
                put(name, old)

        self._undo.append(undo)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``hooks[name](module)`` right after ``name`` is first imported."""

    def __init__(self, hooks: dict[str, Callable[[Any], None]]) -> None:
        self.hooks = hooks

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        hook = self.hooks.pop(fullname, None)
        if hook is None:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if finder is not self and find is not None else None
            if spec is not None and spec.loader is not None:
                spec.loader = _HookedLoader(spec.loader, hook)
                return spec
        return None


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, hook: Callable[[Any], None]) -> None:
        self.loader, self.hook = loader, hook

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        module.__spec__.loader = module.__loader__ = self.loader
        self.loader.exec_module(module)
        self.hook(sys.modules.get(module.__name__, module))  # a package may replace itself (transformers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


@contextmanager
def network_placeholders() -> Iterator[list[Replacement]]:
    """Inside the block, upstream builds t5, lut, clap_text, phoneme, dac_pretrained and audiocraft_pretrained
    pieces from stand-ins instead of downloading them. Yields the list of replacements made (appended to as
    they happen). Everything is restored on exit, including modules first imported inside the block."""
    log: list[Replacement] = []
    patches = _Patches()

    def patch_transformers(module: Any) -> None:
        patches.setattrs(module, _transformers_patches(log))

    def patch_conditioners(module: Any) -> None:
        patches.setattrs(module, {"clap_load_state_dict": _skip_clap_checkpoint})

    def patch_dac(module: Any) -> None:
        utils_values, class_values = _dac_patches(module, log)
        patches.setattrs(module.utils, utils_values)
        patches.setattrs(module.DAC, class_values)

    hooks = {
        "transformers": patch_transformers,
        "stable_audio_tools.models.conditioners": patch_conditioners,
        "dac": patch_dac,
    }
    pending: dict[str, Callable[[Any], None]] = {}
    for name, hook in hooks.items():
        if name in sys.modules:
            hook(sys.modules[name])
        else:
            pending[name] = hook
    patches.modules({"laion_clap": _laion_clap_module(log), "g2p_en": _g2p_en_module(log),
                     **_audiocraft_modules(log)})
    finder = _AfterImport(pending)
    sys.meta_path.insert(0, finder)
    try:
        yield log
    finally:
        sys.meta_path.remove(finder)
        patches.undo()
