"""Bi-encoder ``Embedder`` used for retrieval and hard-negative mining.

Loads Sentence Transformers embedding folders (``modules.json`` listing a Transformer, a Pooling module
with mean / CLS / max / last-token / mean-sqrt-len pooling, and an optional Normalize module) as well as
plain Hugging Face encoders (mean pooling). Texts are tokenized once, sorted by token length, padded per
batch and run under ``torch.inference_mode``; an optional on-disk cache stores embeddings keyed by the
model, the prompt and the texts.

Example:
    >>> emb = Embedder("path/to/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> emb.encode(["a cat", "a dog"]).shape  # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from crossrank.inference.batching import pad_batch, plan_batches

logger = logging.getLogger(__name__)

PoolingMode = Literal["mean", "cls", "max", "lasttoken", "mean_sqrt_len"]
_POOLING_KEYS: dict[str, PoolingMode] = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_lasttoken": "lasttoken",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
}
_KNOWN_MODULES = ("Transformer", "Pooling", "Normalize")
Backend = Literal["auto", "light", "transformers", "onnx"]


@dataclass
class EmbedderLayout:
    """What an embedding folder declares: where the encoder lives and how to pool and normalise."""

    transformer_path: Path
    pooling: PoolingMode = "mean"
    normalize: bool = False
    max_length: int | None = None
    do_lower_case: bool = False
    include_prompt: bool = True
    prompts: dict[str, str] | None = None


def _read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _pooling_from_config(config: dict[str, Any], path: Path) -> PoolingMode:
    if isinstance(config.get("pooling_mode"), str):
        mode = config["pooling_mode"].replace("_token", "").replace("_tokens", "")
        mode = {"lasttoken": "lasttoken", "last": "lasttoken", "weightedmean": "weighted"}.get(mode, mode)
        if mode in _POOLING_KEYS.values():
            return mode  # type: ignore[return-value]
    active = [mode for key, mode in _POOLING_KEYS.items() if config.get(key)]
    if len(active) != 1:
        raise ValueError(
            f"Pooling config {path} must enable exactly one of {sorted(_POOLING_KEYS)}; found {active or 'none'}. "
            "Concatenated or weighted pooling is not supported by crossrank.Embedder."
        )
    return active[0]


def read_layout(folder: Path) -> EmbedderLayout:
    """Read ``modules.json`` (if present) and the configs it points to.

    Args:
        folder: a local model folder.

    Returns:
        The folder's layout; a plain Hugging Face folder gets mean pooling without normalisation.

    Raises:
        ValueError: when ``modules.json`` lists a module crossrank cannot run (e.g. Dense).
    """
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return EmbedderLayout(transformer_path=folder)
    layout = EmbedderLayout(transformer_path=folder)
    for module in _read_json(modules_file):
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        sub = folder / module.get("path", "")
        if kind not in _KNOWN_MODULES:
            raise ValueError(
                f"{modules_file} lists module type {module.get('type')!r}; crossrank.Embedder supports only "
                f"{', '.join(_KNOWN_MODULES)}. Remove the module or embed with the library that wrote the folder."
            )
        if kind == "Transformer":
            layout.transformer_path = sub
            for name in ("sentence_bert_config.json", "sentence_transformers_config.json"):
                if (sub / name).is_file():
                    cfg = _read_json(sub / name)
                    layout.max_length = cfg.get("max_seq_length")
                    layout.do_lower_case = bool(cfg.get("do_lower_case", False))
                    break
        elif kind == "Pooling":
            cfg = _read_json(sub / "config.json") if (sub / "config.json").is_file() else {}
            layout.pooling = _pooling_from_config(cfg, sub / "config.json")
            layout.include_prompt = bool(cfg.get("include_prompt", True))
        else:
            layout.normalize = True
    st_config = folder / "config_sentence_transformers.json"
    if st_config.is_file():
        layout.prompts = _read_json(st_config).get("prompts") or None
    return layout


def pool(hidden: torch.Tensor, mask: torch.Tensor, mode: PoolingMode) -> torch.Tensor:
    """Pool token states ``(B, T, H)`` into sentence vectors ``(B, H)`` under attention ``mask`` ``(B, T)``.

    Args:
        hidden: last hidden states.
        mask: 1 for real tokens, 0 for padding (right padding assumed for ``lasttoken``).
        mode: pooling mode.

    Returns:
        The pooled embeddings.
    """
    if mode == "cls":
        return hidden[:, 0]
    maskf = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "max":
        return hidden.masked_fill(maskf == 0, -1e9).max(dim=1).values
    if mode == "lasttoken":
        last = (mask.sum(dim=1) - 1).clamp(min=0)
        return hidden[torch.arange(hidden.size(0)), last]
    summed = (hidden * maskf).sum(dim=1)
    counts = maskf.sum(dim=1).clamp(min=1e-9)
    return summed / (counts if mode == "mean" else counts.sqrt())


@functools.cache
def _libc() -> Any | None:
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def trim_heap() -> bool:
    """Return the heap's free pages to the operating system (glibc ``malloc_trim(0)``).

    Encoding batches of changing shapes leaves freed activation memory scattered through the heap, where
    it stays resident. Trimming after each batch keeps the resident size near the live working set; it
    changes no allocator setting and costs little next to a forward pass (on the mining bench's crossrank
    side: about the speed of untrimmed encoding at about 0.6x its peak RSS). A no-op off glibc.

    Returns:
        Whether glibc's ``malloc_trim`` was called.
    """
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def cache_key(model_id: str, prompt: str | None, texts: Sequence[str], extra: str = "") -> str:
    """A sha256 over the model identity, the prompt and the texts: the on-disk cache key."""
    digest = hashlib.sha256(usedforsecurity=False)
    digest.update(repr((model_id, prompt, extra, len(texts))).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


class Embedder:
    """A bi-encoder: text in, one vector per text out.

    Args:
        model_name_or_path: a local folder (Sentence Transformers layout or plain Hugging Face encoder), or
            ``package:NAME`` for the model folder shipped in an installed package.
        device: torch device; CPU by default (CUDA when available).
        max_length: token limit; defaults to the folder's ``max_seq_length`` or the model's maximum.
        pooling: override the folder's pooling mode.
        normalize: whether the folder declares a Normalize module (``encode`` normalises by default anyway).
        compact_memory: opt-in: return freed heap pages to the OS after each batch (glibc ``malloc_trim``, see
            :func:`trim_heap`), so that batches of varying shapes do not leave the resident size growing. Off by
            default: it acts on the whole process's heap, so the caller decides (``crossrank mine`` turns it on).
        backend: ``"light"`` runs plain BERT folders (safetensors weights, WordPiece ``tokenizer.json``) with
            crossrank's own encoder (:mod:`crossrank.embedding.bert_encoder`: same outputs, without importing the
            ``transformers`` modeling stack); ``"transformers"`` always uses ``AutoModel``; ``"auto"`` (default)
            takes the light path when the folder allows it; ``"onnx"`` runs an ONNX export of the encoder with
            ONNX Runtime (``onnx/model.onnx`` in the folder, see ``crossrank export``; int8 files work too).
        cpu_workers: opt-in: on CPU, how many batches are encoded at once, each in a worker thread set to
            ``torch.get_num_threads() // cpu_workers`` threads and given a ``1 / cpu_workers`` share of the
            token budget (small matrices use one thread each better than several threads together; the vectors
            agree to float rounding). ``None`` picks ``min(torch threads, 4)``. Default 1: batches one after
            another on the caller's thread, no thread setting touched. Ignored by the ONNX backend.
        file_name, provider, threads: ONNX backend only: which ONNX file (relative to the folder), the ONNX
            Runtime execution provider (default CPU) and its intra-op thread count (default: ONNX Runtime's).

    Raises:
        FileNotFoundError: when the folder does not exist.
        ValueError: when ``backend="light"`` is asked of a folder it cannot run.
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str],
        device: str | None = None,
        max_length: int | None = None,
        pooling: PoolingMode | None = None,
        normalize: bool | None = None,
        compact_memory: bool = False,
        backend: Backend = "auto",
        cpu_workers: int | None = 1,
        file_name: str | None = None,
        provider: str | None = None,
        threads: int | None = None,
    ) -> None:
        text = os.fspath(model_name_or_path)
        if text.startswith("package:"):
            from crossrank.inference.loading import package_model_folder

            text = package_model_folder(text[len("package:"):])
        folder = Path(text)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Embedding model folder {str(folder)!r} not found: expected a local folder with config.json "
                "(crossrank does not download models; save it locally first)."
            )
        if backend not in ("auto", "light", "transformers", "onnx"):
            raise ValueError(f"backend must be 'auto', 'light', 'transformers' or 'onnx'; got {backend!r}.")
        self.compact_memory = compact_memory
        if cpu_workers is not None and cpu_workers < 1:
            raise ValueError(f"cpu_workers must be a positive integer or None, got {cpu_workers}.")
        self.cpu_workers = cpu_workers
        layout = read_layout(folder)
        self.model_id = str(folder.resolve())
        self.layout = layout
        self.pooling: PoolingMode = pooling or layout.pooling
        self.normalize_output = layout.normalize if normalize is None else normalize
        self.prompts: dict[str, str] = dict(layout.prompts or {})
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if backend == "onnx":
            limits = self._load_onnx(folder, file_name, provider, threads)
        else:
            limits = self._load_backend(layout.transformer_path, backend)
            self.model = self.model.to(self.device).eval()
        limits += [layout.max_length, max_length]
        self.max_length = int(max_length or min((x for x in limits if x), default=512))

    def _load_backend(self, path: Path, backend: Backend) -> list[int | None]:
        """Load the encoder and tokenizer; return the token limits they declare."""
        from crossrank.embedding.bert_encoder import load_light_bert, tokenizer_max_length

        light = load_light_bert(path) if backend != "transformers" else None
        if backend == "light" and light is None:
            raise ValueError(
                f"backend='light' needs a plain BERT folder with model.safetensors and a WordPiece tokenizer.json; "
                f"{str(path)!r} is not one. Use backend='auto' to fall back to transformers."
            )
        if light is not None:
            self.backend: Backend = "light"
            self.model, self.tokenizer = light
            self.dimension = self.model.shape.hidden_size
            self.pad_id = 0
            self._hidden = lambda f: self.model(*self._tensors(f))
            return [self.model.shape.max_positions, tokenizer_max_length(path)]
        from transformers import AutoModel

        self.backend = "transformers"
        self.tokenizer = self._auto_tokenizer(path)
        self.model = AutoModel.from_pretrained(str(path))
        self.dimension = int(self.model.config.hidden_size)
        self.pad_id = self.tokenizer.pad_token_id or 0
        self._hidden = lambda f: self.model(**dict(zip(("input_ids", "attention_mask"), self._tensors(f))),
                                            ).last_hidden_state
        tok_limit = getattr(self.tokenizer, "model_max_length", None)
        return [getattr(self.model.config, "max_position_embeddings", None),
                tok_limit if tok_limit and tok_limit < 1_000_000 else None]

    def _auto_tokenizer(self, path: Path) -> Any:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(path))
        if self.layout.do_lower_case and hasattr(tokenizer, "do_lower_case"):
            tokenizer.do_lower_case = True
        return tokenizer

    def _tensors(self, features: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.from_numpy(features["input_ids"]).to(self.device),
                torch.from_numpy(features["attention_mask"]).to(self.device))

    def _load_onnx(self, folder: Path, file_name: str | None, provider: str | None,
                   threads: int | None) -> list[int | None]:
        """ONNX Runtime on the folder's ONNX export; the tokenizer as the light path would load it."""
        from crossrank.embedding.bert_encoder import _light_tokenizer, tokenizer_max_length
        from crossrank.embedding.onnx_encoder import OnnxEncoder

        path = self.layout.transformer_path
        encoder = OnnxEncoder(folder, path, file_name, provider, threads)
        self.backend = "onnx"
        self.model = encoder
        self.tokenizer = _light_tokenizer(path) or self._auto_tokenizer(path)
        self.pad_id = 0 if hasattr(self.tokenizer, "encode_batch") else (self.tokenizer.pad_token_id or 0)
        self.dimension = encoder.hidden_size
        self._hidden = lambda f: torch.from_numpy(encoder(f))
        self.cpu_workers = 1
        return [encoder.max_positions, tokenizer_max_length(path)]

    def get_embedding_dimension(self) -> int:
        """The size of one embedding vector."""
        return int(self.dimension)

    def _tokenize(self, texts: Sequence[str], chunk: int = 1024) -> list[list[int]]:
        """Token ids only, ``chunk`` texts at a time (the fast tokenizer's per-text objects are large)."""
        if self.layout.do_lower_case:
            texts = [t.lower() for t in texts]
        ids: list[list[int]] = []
        for start in range(0, len(texts), chunk):
            ids.extend(self._token_ids(list(texts[start : start + chunk])))
        return ids

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of ``texts``, truncated to ``max_length`` (special tokens included), no padding."""
        if hasattr(self.tokenizer, "encode_batch"):  # a tokenizers.Tokenizer (light path)
            self.tokenizer.enable_truncation(self.max_length)
            return [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=False,
                                 return_attention_mask=False, return_token_type_ids=False)
        return list(encoded["input_ids"])

    def _prompt_length(self, prompt: str | None) -> int:
        if not prompt or self.layout.include_prompt:
            return 0
        ids = self._tokenize([prompt])[0]
        return max(len(ids) - 1, 0)  # the trailing special token is not part of the prompt

    def _forward(self, token_ids: list[list[int]], rows: np.ndarray, prompt_length: int) -> torch.Tensor:
        features = pad_batch({"input_ids": token_ids}, rows, self.pad_id, with_mask=True)
        hidden = self._hidden(features)
        attention = torch.from_numpy(features["attention_mask"]).to(hidden.device)
        if prompt_length:
            attention[:, :prompt_length] = 0
        return pool(hidden, attention, self.pooling).float()

    def _run(self, texts: list[str], batch_size: int, prompt: str | None, progress: bool) -> torch.Tensor:
        from tqdm.auto import tqdm

        token_ids = self._tokenize([prompt + t for t in texts] if prompt else texts)
        workers, threads = self._parallelism(len(token_ids))
        # concurrent batches share the token budget, so the memory in flight stays that of one batch
        lengths = [len(ids) for ids in token_ids]
        budget = batch_size * max(64 // workers, 8)
        batches = plan_batches(lengths, batch_size, max_tokens=budget, max_rows=8 * batch_size)
        workers = min(workers, len(batches))
        prompt_length = self._prompt_length(prompt)
        out = torch.empty((len(texts), self.get_embedding_dimension()), dtype=torch.float32)

        def encode_batch(rows: np.ndarray) -> None:
            with torch.inference_mode():
                vectors = self._forward(token_ids, rows, prompt_length)
                out[torch.from_numpy(rows)] = vectors.cpu()  # batches hold disjoint rows
                del vectors
            if self.compact_memory and self.device.type == "cpu":
                trim_heap()

        with tqdm(total=len(batches), desc="Encoding", disable=not progress) as bar:
            if workers == 1:
                for rows in batches:
                    encode_batch(rows)
                    bar.update()
                return out
            with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(threads,)) as pool:
                for _ in pool.map(encode_batch, batches):
                    bar.update()
        return out

    def _parallelism(self, num_texts: int) -> tuple[int, int]:
        """``(concurrent batches, torch threads each)``: several small batches beat one on many threads."""
        if self.device.type != "cpu" or num_texts < 2:
            return 1, torch.get_num_threads()
        threads = torch.get_num_threads()
        workers = min(self.cpu_workers or min(threads, 4), threads, num_texts)
        return max(workers, 1), max(threads // max(workers, 1), 1)

    def encode(
        self,
        texts: str | Sequence[str],
        batch_size: int = 32,
        normalize: bool = True,
        prompt: str | None = None,
        prompt_name: str | None = None,
        show_progress_bar: bool | None = None,
        convert_to_numpy: bool = True,
        cache_folder: str | os.PathLike[str] | None = None,
    ) -> np.ndarray | torch.Tensor:
        """Embed ``texts`` (length-sorted batches, tokenized once, no gradients).

        Args:
            texts: one text or a sequence of texts.
            batch_size: sets the padded-token budget in flight, ``batch_size * 64`` tokens (shared by the
                concurrent batches, see ``cpu_workers``): long
                texts run in smaller batches, short texts in larger ones (see :meth:`plan_batches`).
            normalize: L2-normalise the vectors (cosine similarity becomes a dot product); a folder with a
                Normalize module always normalises.
            prompt: a string prepended to every text; overrides ``prompt_name``.
            prompt_name: key into the folder's ``prompts`` (``config_sentence_transformers.json``).
            show_progress_bar: tqdm bar; by default shown when logging is at INFO or below.
            convert_to_numpy: return ``np.ndarray`` (float32) instead of a CPU ``torch.Tensor``.
            cache_folder: when set, embeddings are stored as ``emb_{sha256}.npy`` and reused.

        Returns:
            ``(N, D)`` embeddings, or ``(D,)`` for a single string.

        Raises:
            ValueError: on a bad ``batch_size``, an unknown ``prompt_name`` or non-string texts.
        """
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        bad = next((t for t in items if not isinstance(t, str)), None)
        if bad is not None:
            raise ValueError(f"encode expects strings, found {type(bad).__name__}: {bad!r}. Convert with str().")
        prompt = self._resolve_prompt(prompt, prompt_name)
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO and len(items) > 10 * batch_size
        vectors = self._cached_run(items, batch_size, prompt, bool(show_progress_bar), cache_folder)
        if normalize or self.normalize_output:
            vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
        result: np.ndarray | torch.Tensor = vectors.numpy() if convert_to_numpy else vectors
        return result[0] if single else result

    def _resolve_prompt(self, prompt: str | None, prompt_name: str | None) -> str | None:
        if prompt is not None or prompt_name is None:
            return prompt or None
        if prompt_name not in self.prompts:
            raise ValueError(
                f"prompt_name {prompt_name!r} is not one of the model's prompts {sorted(self.prompts)}; "
                "pass prompt='...' instead or add it to config_sentence_transformers.json."
            )
        return self.prompts[prompt_name] or None

    def _cached_run(
        self,
        items: list[str],
        batch_size: int,
        prompt: str | None,
        progress: bool,
        cache_folder: str | os.PathLike[str] | None,
    ) -> torch.Tensor:
        if not items:
            return torch.empty((0, self.get_embedding_dimension()), dtype=torch.float32)
        if cache_folder is None:
            return self._run(items, batch_size, prompt, progress)
        extra = f"{self.pooling}|{self.max_length}|{self.normalize_output}"
        path = Path(cache_folder) / f"emb_{cache_key(self.model_id, prompt, items, extra)}.npy"
        if path.is_file():
            logger.info("Loaded %d cached embeddings from %s", len(items), path)
            return torch.from_numpy(np.load(path))
        vectors = self._run(items, batch_size, prompt, progress)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors.numpy())
        os.replace(tmp, path)
        return vectors
