"""openai-whisper, the reference implementation, fed audio that qda decodes itself.

Offline, its checkpoints cannot be downloaded; the bundled CTranslate2 weights hold the
same tensors, so `converted_checkpoint` rewrites them once into an openai-whisper
checkpoint (cached beside the CTranslate2 model). Both engines then run on identical
weights and can be compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qda.transcribe.ct2_file import read_ct2_variables
from qda.transcribe.types import (
    Engine,
    EngineInfo,
    TranscribedSegment,
    TranscriptionInfo,
    TranscriptionOptions,
    Word,
)
from qda.transcribe.weights import cache_dir, download_failed, find_model


def _split(array: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(array, parts, axis=0)


def ct2_to_openai_state(ct2_dir: Path) -> tuple[dict, dict]:
    """(dims, state dict) of an openai-whisper model from a CTranslate2 Whisper folder."""
    import torch

    spec, v = read_ct2_variables(ct2_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ValueError(f"{ct2_dir} holds a {spec} model, not Whisper")
    state: dict[str, np.ndarray] = {}

    def norm(dst: str, src: str) -> None:
        state[f"{dst}.weight"] = v[f"{src}/gamma"]
        state[f"{dst}.bias"] = v[f"{src}/beta"]

    def linear(dst: str, src: str, bias: bool = True) -> None:
        state[f"{dst}.weight"] = v[f"{src}/weight"]
        if bias:
            state[f"{dst}.bias"] = v[f"{src}/bias"]

    def fused(dsts: list[str], src: str) -> None:
        weights = _split(v[f"{src}/weight"], len(dsts))
        biases = _split(v[f"{src}/bias"], len(dsts))
        for dst, w, b in zip(dsts, weights, biases, strict=True):
            state[f"{dst}.weight"] = w
            if not dst.endswith(".key"):  # Whisper's key projections have no bias
                state[f"{dst}.bias"] = b

    n_audio_layer = sum(
        1 for k in v if k.startswith("encoder/layer_") and k.endswith("ffn/linear_0/weight")
    )
    n_text_layer = sum(
        1 for k in v if k.startswith("decoder/layer_") and k.endswith("ffn/linear_0/weight")
    )
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    state["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        fused(
            [f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"],
            f"{src}/self_attention/linear_0",
        )
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
    norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    state["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        fused(
            [f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"],
            f"{src}/self_attention/linear_0",
        )
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        fused([f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"], f"{src}/attention/linear_1")
        linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
    norm("decoder.ln", "decoder/layer_norm")

    n_state = v["encoder/conv1/weight"].shape[0]
    dims = {
        "n_mels": v["encoder/conv1/weight"].shape[1],
        "n_audio_ctx": v["encoder/position_encodings/encodings"].shape[0],
        "n_audio_state": n_state,
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": v["decoder/embeddings/weight"].shape[0],
        "n_text_ctx": v["decoder/position_encodings/encodings"].shape[0],
        "n_text_state": v["decoder/embeddings/weight"].shape[1],
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    tensors = {k: torch.from_numpy(np.array(a, dtype=np.float32)) for k, a in state.items()}
    return dims, tensors


def converted_checkpoint(ct2_dir: Path, name: str) -> Path:
    """The openai-whisper checkpoint made from a CTranslate2 model (converted once)."""
    import torch

    target = cache_dir() / "openai-whisper" / f"{name}.pt"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    dims, state = ct2_to_openai_state(ct2_dir)
    config = ct2_dir / "config.json"
    heads = json.loads(config.read_text()).get("alignment_heads") if config.exists() else None
    partial = target.with_suffix(".partial")
    torch.save({"dims": dims, "model_state_dict": state, "alignment_heads": heads}, partial)
    partial.rename(target)
    return target


class OpenAIWhisperTranscriber:
    """Whisper through the openai-whisper package (PyTorch)."""

    def __init__(self, model: str = "base", *, device: str | None = None, threads: int = 0):
        import torch
        import whisper

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if threads:
            torch.set_num_threads(threads)
        source = find_model(model)
        heads = None
        if source.path is not None and source.path.is_dir():
            checkpoint = converted_checkpoint(source.path, source.path.name)
            heads = torch.load(checkpoint, map_location="cpu", weights_only=False).get(
                "alignment_heads"
            )
            target = str(checkpoint)
        else:
            target = str(source.path) if source.path else model
        try:
            self._model = whisper.load_model(
                target, device=device, download_root=str(cache_dir() / "openai-whisper")
            )
        except Exception as e:  # the download of a model that is not bundled
            if source.path is None:
                raise download_failed(model, e) from None
            raise
        if heads:
            d = self._model.dims
            mask = torch.zeros(d.n_text_layer, d.n_text_head, dtype=torch.bool)
            for layer, head in heads:
                mask[layer, head] = True
            self._model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
        self._fp16 = device == "cuda"
        self.info = EngineInfo(
            engine=Engine.OPENAI_WHISPER,
            model=model,
            version=whisper.__version__,
            device=device,
            compute_type="float16" if self._fp16 else "float32",
        )

    def transcribe(
        self, audio: np.ndarray, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[TranscribedSegment]]:
        import whisper

        language = options.language
        probability = 1.0
        if language is None:
            language, probability = self.detect_language(audio)
        result = whisper.transcribe(
            self._model,
            audio,
            language=language,
            beam_size=options.beam_size if options.beam_size > 1 else None,
            **({"temperature": options.temperature} if options.temperature is not None else {}),
            condition_on_previous_text=options.condition_on_previous_text,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            fp16=self._fp16,
            verbose=None,
        )

        def convert() -> Iterator[TranscribedSegment]:
            for s in result["segments"]:
                words = tuple(
                    Word(w["start"], w["end"], w["word"], w.get("probability", 1.0))
                    for w in s.get("words", ())
                )
                yield TranscribedSegment(
                    float(s["start"]), float(s["end"]), s["text"].strip(), words
                )

        duration = len(audio) / 16_000
        return TranscriptionInfo(language, probability, duration), convert()

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self._model.dims.n_mels).to(
            self._model.device
        )
        _, probs = self._model.detect_language(mel)
        language = max(probs, key=probs.get)
        return language, float(probs[language])
