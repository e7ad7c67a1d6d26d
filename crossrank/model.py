"""CrossEncoder: a reranker that reads a (query, document) pair through one transformer and scores it.

The saved folder is a plain Hugging Face sequence-classification folder: ``transformers`` loads it as is,
and the activation lives in ``config.json`` under ``sentence_transformers`` so that Sentence Transformers
agrees on the scores.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

from crossrank.inference import activation as _activation
from crossrank.inference import loading as _loading
from crossrank.inference.batching import pad_batch
from crossrank.inference.engine import ScoringEngine, TorchBackend
from crossrank.inference.fusion import Fusion
from crossrank.inference.loading import resolve_model_source
from crossrank.inference.pairs import Pair, check_documents, check_pairs, check_top_k, is_single_pair
from crossrank.storage.atomic import atomic_dir_write

if TYPE_CHECKING:
    from crossrank.model_card.card import ModelCardData

FUSION_CONFIG_KEY = "crossrank_fusion"

logger = logging.getLogger(__name__)


class CrossEncoder(nn.Module):
    """A reranker: ``predict`` scores (query, document) pairs, ``rank`` orders documents for a query.

    Args:
        model_name_or_path: a local folder (a Hugging Face sequence-classification checkpoint, a
            Sentence Transformers cross-encoder folder, or a plain encoder such as BERT, which gets a
            fresh head) or a Hub id for users with a network.
        num_labels: outputs of the head; defaults to the checkpoint's, or 1 for a plain encoder.
        max_length: the longest (query, document) pair in tokens; longer pairs are truncated (longest
            first) with a warning. Defaults to the tokenizer's limit, capped by the position embeddings.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``…; defaults to CUDA when available.
        activation_fn: applied to the logits in ``predict``; defaults to the one stored in the config,
            else Sigmoid for one label and Identity for several.
        trust_remote_code, revision, cache_dir, local_files_only: forwarded to ``transformers``.
        backend: ``"torch"`` (default: the PyTorch weights) or ``"onnx"``: score with ONNX Runtime from the
            folder's ONNX export (``crossrank export``); ``config.json`` and the tokenizer are read as for torch
            (same activation and fusion), the PyTorch weights are not loaded, and the model cannot be trained.
        file_name: ONNX only: which ONNX file, relative to the folder (e.g. ``onnx/model_quint8_avx2.onnx``);
            default ``model.onnx`` at the root or in ``onnx/``.
        provider: ONNX only: the ONNX Runtime execution provider (default ``CPUExecutionProvider``).
        threads: ONNX only: intra-op threads of the ONNX Runtime session (default: ONNX Runtime's).

    Example:
        >>> model = CrossEncoder("path/to/reranker")  # doctest: +SKIP
        >>> model.predict([("what is the capital of france", "Paris is the capital of France.")])  # doctest: +SKIP
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str],
        num_labels: int | None = None,
        max_length: int | None = None,
        device: str | torch.device | None = None,
        activation_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
        trust_remote_code: bool = False,
        revision: str | None = None,
        cache_dir: str | None = None,
        local_files_only: bool = False,
        backend: Literal["torch", "onnx"] = "torch",
        file_name: str | None = None,
        provider: str | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__()
        source = resolve_model_source(model_name_or_path, local_files_only)
        hub_kwargs = {"trust_remote_code": trust_remote_code, "revision": revision, "cache_dir": cache_dir,
                      "local_files_only": local_files_only}
        with _loading.loading_errors(source):
            config = AutoConfig.from_pretrained(source, **hub_kwargs)
        _loading.check_architecture(config, source)
        self.backend_name = check_backend(backend, file_name, provider, threads)
        if backend == "onnx":
            self._init_onnx(source, config, hub_kwargs, num_labels, max_length, activation_fn, (file_name, provider,
                                                                                              threads))
            return
        _loading.check_model_folder(source)
        has_head = any(a.endswith("ForSequenceClassification") for a in (config.architectures or []))
        if num_labels is None:
            num_labels = config.num_labels if has_head else 1
        if not has_head or config.num_labels != num_labels:
            logger.info("Initialising a new %d-label classification head on %s", num_labels, source)
        config.num_labels = num_labels
        with _loading.loading_errors(source):
            self.model: PreTrainedModel = AutoModelForSequenceClassification.from_pretrained(
                source, config=config, ignore_mismatched_sizes=has_head, **hub_kwargs
            )
            self.tokenizer = AutoTokenizer.from_pretrained(source, **hub_kwargs)
        _loading.check_tokenizer(self.tokenizer, source)
        self.backend: Any = TorchBackend(self.model)
        self.trained_by: Any = None
        """The ``crossrank.Trainer`` that trains this model (set by it); saves then write a model card."""
        self.model_card_data: ModelCardData | None = None
        """User fields of the model card (language, license, datasets, ...) written by ``save_pretrained``."""
        self.name_or_path = str(model_name_or_path)
        self.max_length = max_length if max_length is not None else self._default_max_length()
        self.activation_fn = activation_fn or _activation.from_config(self.config, source)
        self.to(_activation.default_device() if device is None else device)

    def _init_onnx(self, source: str, config: Any, hub_kwargs: dict[str, Any], num_labels: int | None,
                   max_length: int | None, activation_fn: Callable[[torch.Tensor], torch.Tensor] | None,
                   onnx_args: tuple[str | None, str | None, int | None]) -> None:
        """The ONNX Runtime path: config and tokenizer as for torch, the ONNX file instead of the weights."""
        from crossrank.inference.onnx_backend import OnnxBackend, find_onnx_file

        if not Path(source).is_dir():
            raise FileNotFoundError(f"backend='onnx' needs a local folder; {source!r} is not one.")
        if num_labels is not None and num_labels != config.num_labels:
            raise ValueError(f"backend='onnx' scores with the exported head ({config.num_labels} labels); "
                             f"num_labels={num_labels} cannot change it. Drop num_labels.")
        file_name, provider, threads = onnx_args
        self.backend = OnnxBackend(find_onnx_file(source, file_name), provider, threads)
        object.__setattr__(self, "_onnx_config", config)
        with _loading.loading_errors(source):
            self.tokenizer = AutoTokenizer.from_pretrained(source, **hub_kwargs)
        _loading.check_tokenizer(self.tokenizer, source)
        self.trained_by: Any = None
        self.model_card_data: ModelCardData | None = None
        self.name_or_path = source
        self.max_length = max_length if max_length is not None else self._default_max_length()
        self.activation_fn = activation_fn or _activation.from_config(self.config, source)

    from_pretrained = classmethod(lambda cls, *args, **kwargs: cls(*args, **kwargs))

    @property
    def model(self) -> PreTrainedModel:
        """The Hugging Face model (PyTorch backend only)."""
        model = self._modules.get("model")
        if model is None:
            raise RuntimeError(
                f"this CrossEncoder ({self.name_or_path!r}) runs on ONNX Runtime (backend='onnx') and has no "
                "PyTorch weights to train, save or move; load the folder with backend='torch' for that."
            )
        return model  # type: ignore[return-value]

    # ----------------------------------------------------------------- properties
    @property
    def config(self) -> Any:
        onnx_config = self.__dict__.get("_onnx_config")
        return onnx_config if onnx_config is not None else self.model.config

    @property
    def num_labels(self) -> int:
        return int(self.config.num_labels)

    @property
    def device(self) -> torch.device:
        if self.backend_name == "onnx":
            return torch.device("cpu")
        return next(self.model.parameters()).device

    @property
    def max_length(self) -> int:
        return self._max_length

    @max_length.setter
    def max_length(self, value: int) -> None:
        limit = getattr(self.config, "max_position_embeddings", None)
        if value < 2 or (limit is not None and value > limit):
            raise ValueError(
                f"max_length must be between 2 and the model's {limit} positions; found {value}. "
                "Pass a smaller max_length."
            )
        self._max_length = int(value)
        self.tokenizer.model_max_length = int(value)

    @property
    def activation_fn(self) -> Callable[[torch.Tensor], torch.Tensor]:
        return self._activation_fn

    @activation_fn.setter
    def activation_fn(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        # A plain attribute, not a registered sub-module: it holds no weights.
        object.__setattr__(self, "_activation_fn", fn)
        _activation.store_in_config(self.config, fn)

    @property
    def fusion(self) -> Fusion | None:
        """How :meth:`rank` blends in first-stage scores (stored in ``config.json``); None = reranker only."""
        return Fusion.from_dict(getattr(self.config, FUSION_CONFIG_KEY, None))

    @fusion.setter
    def fusion(self, value: Fusion | None) -> None:
        setattr(self.config, FUSION_CONFIG_KEY, value.to_dict() if value is not None else None)

    def _default_max_length(self) -> int:
        limit = int(getattr(self.config, "max_position_embeddings", 512) or 512)
        tok_limit = self.tokenizer.model_max_length
        if tok_limit is None or tok_limit > 100_000:
            return min(limit, 512)
        return min(int(tok_limit), limit)

    # ----------------------------------------------------------------- scoring
    def tokenize(self, pairs: Sequence[Pair], padding: bool = True) -> dict[str, Any]:
        """Tokenize pairs as the engine does (truncation longest-first at ``max_length``).

        With ``padding`` the features are int64 tensors right-padded to the longest pair (the engine's
        :func:`~crossrank.inference.batching.pad_batch`), else lists of token ids.
        """
        engine = self.engine
        encoded = engine.encode([(p[0], p[1]) for p in pairs])
        if not padding:
            return encoded.features
        batch = pad_batch(encoded.features, np.arange(len(encoded)), engine.pad_id)
        return {key: torch.from_numpy(value) for key, value in batch.items()}

    def forward(self, **features: torch.Tensor) -> torch.Tensor:
        """Raw logits (N, num_labels) for tokenized pairs."""
        return self.model(**features, return_dict=True).logits

    @property
    def engine(self) -> ScoringEngine:
        """The scoring engine of this model (its tokenizer, backend, ``max_length`` and label count)."""
        return ScoringEngine(self.tokenizer, self.backend, self.max_length, self.num_labels)

    def logits(self, pairs: Sequence[Pair], batch_size: int = 32, show_progress_bar: bool | None = None) -> np.ndarray:
        """Raw float32 logits ``(N, num_labels)`` of (query, document) pairs, in input order (no activation)."""
        pair_list = check_pairs(pairs)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; found {batch_size}.")
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO and len(pair_list) > 10 * batch_size
        if self.backend_name == "torch":
            self.model.eval()
        return self.engine.logits(pair_list, batch_size, show_progress_bar=show_progress_bar)

    @torch.inference_mode()
    def predict(
        self,
        pairs: Sequence[Pair] | Pair,
        batch_size: int = 32,
        activation_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
        apply_softmax: bool = False,
        convert_to_numpy: bool = True,
        convert_to_tensor: bool = False,
        show_progress_bar: bool | None = None,
    ) -> np.ndarray | torch.Tensor | list[torch.Tensor] | float:
        """Score (query, document) pairs.

        Pairs are tokenized once, sorted by length into batches (little padding), scored, and
        returned in input order as float32. One pair in gives one score (a scalar) out.

        Returns:
            ``np.ndarray`` (N,) for one label or (N, C) for several; a tensor with
            ``convert_to_tensor=True``; a list of tensors with ``convert_to_numpy=False``.
        """
        single = is_single_pair(pairs)
        pair_list = [pairs] if single else pairs
        logits = torch.from_numpy(self.logits(pair_list, batch_size, show_progress_bar))  # type: ignore[arg-type]
        fn = activation_fn or self.activation_fn
        scores = fn(logits)
        if apply_softmax and scores.ndim == 2 and scores.shape[1] > 1:
            scores = torch.softmax(scores, dim=1)
        if self.num_labels == 1:
            scores = scores.view(-1)
        if convert_to_tensor:
            out: Any = scores
        elif convert_to_numpy:
            out = scores.cpu().numpy()
        else:
            out = list(scores)
        return out[0] if single else out

    def rank(
        self,
        query: str,
        documents: Sequence[str],
        top_k: int | None = None,
        return_documents: bool = False,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        first_stage_scores: Sequence[float] | None = None,
    ) -> list[dict[str, Any]]:
        """Order ``documents`` by relevance to ``query``: ``[{corpus_id, score[, text]}]``, best first.

        With ``first_stage_scores`` (the retriever's score of each document) and a :attr:`fusion` stored
        with the model, ``score`` is the fused score and ``reranker_score`` the model's own.
        """
        if self.num_labels != 1:
            raise ValueError(f"rank needs a one-label model; this one has {self.num_labels} labels.")
        documents = check_documents(documents)
        check_top_k(top_k)
        pairs = [(query, d) for d in documents]
        fusion = self.fusion if first_stage_scores is not None else None
        if first_stage_scores is not None and fusion is None:
            raise ValueError(
                "first_stage_scores were given but this model stores no fusion weight. Set "
                "model.fusion = Fusion(weight=...) or train with a first-stage evaluator to tune one."
            )
        if fusion is None:
            scores = np.asarray(self.predict(pairs, batch_size=batch_size, show_progress_bar=show_progress_bar))
            own = scores
        else:
            logits = self.logits(pairs, batch_size=batch_size, show_progress_bar=show_progress_bar)[:, 0]
            scores = fusion.apply(logits, first_stage_scores)
            own = _activation.apply_activation(self.activation_fn, logits)
        order = np.argsort(-scores, kind="stable")[: top_k if top_k is not None else None]
        results = []
        for i in order:
            item: dict[str, Any] = {"corpus_id": int(i), "score": float(scores[i])}
            if fusion is not None:
                item["reranker_score"] = float(own[i])
            if return_documents:
                item["text"] = documents[i]
            results.append(item)
        return results

    # ----------------------------------------------------------------- saving
    def save_pretrained(self, path: str | os.PathLike[str], safe_serialization: bool = True) -> Path:
        """Write a plain Hugging Face folder crash-safely (see ``crossrank.storage.atomic``).

        ``path`` must be new, empty, or a folder crossrank saved before: any other folder is refused (never
        deleted). When a ``crossrank.Trainer`` trained this model (``trained_by``), the folder also gets its
        model card (``README.md``: data, loss, hyper-parameters, logs, evaluation), filled from that trainer
        and ``model_card_data``, in the same step.
        """

        def write(tmp: Path) -> None:
            _activation.store_in_config(self.config, self.activation_fn)
            self.model.save_pretrained(tmp, safe_serialization=safe_serialization)
            self.tokenizer.save_pretrained(tmp)
            if self.trained_by is not None:
                from crossrank.model_card.card import write_model_card

                write_model_card(tmp, trainer=self.trained_by, card_data=self.model_card_data)

        return atomic_dir_write(Path(path), write, kind="model")

    save = save_pretrained

    def push_to_hub(self, repo_id: str, private: bool | None = None, token: str | None = None,
                    commit_message: str = "Upload crossrank reranker") -> str:
        """Save to a temporary folder and upload it to the Hugging Face Hub; returns the commit URL."""
        from crossrank.inference.hub import push_folder

        return push_folder(self.save_pretrained, repo_id, private=private, token=token, commit_message=commit_message)

    def __repr__(self) -> str:
        where = f"backend='onnx', file_name={str(self.backend.path)!r}" if self.backend_name == "onnx" else (
            f"device={str(self.device)!r}")
        return (f"CrossEncoder({self.name_or_path!r}, num_labels={self.num_labels}, "
                f"max_length={self.max_length}, {where})")


def check_backend(backend: str, file_name: str | None, provider: str | None, threads: int | None) -> str:
    """Validate the backend choice; the ONNX-only options need ``backend='onnx'``."""
    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend must be 'torch' or 'onnx'; found {backend!r}.")
    if backend == "torch" and (file_name, provider, threads) != (None, None, None):
        raise ValueError("file_name, provider and threads choose the ONNX file and its session; pass backend='onnx' "
                         "with them.")
    return backend

