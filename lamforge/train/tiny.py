"""The `tiny` model preset: a small causal LM and tokenizer built from scratch on our corpus.

No weights are downloaded: a byte-level BPE tokenizer is trained (Hugging Face `tokenizers`) on
the training prompts and completions, and a small Llama-architecture model is initialised from
a config, so the whole four-phase workflow trains on a 2-core CPU. Both are saved in the
standard `save_pretrained` layout, so every later phase loads them like any hub model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]


class TinySpec(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    vocab_size: int = 2000
    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    max_length: int = 1024


def build_tiny(texts: Iterable[str], out_dir: Path, spec: TinySpec, seed: int = 0) -> Path:
    """Train the tokenizer on `texts`, initialise the model, save both to `out_dir`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from lamforge.train.sft import show_progress

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec.vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=show_progress())
    tok.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        unk_token="<unk>", model_max_length=spec.max_length)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=spec.hidden_size,
        intermediate_size=spec.hidden_size * 4, num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads, num_key_value_heads=spec.heads,
        max_position_embeddings=spec.max_length, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    model.save_pretrained(out_dir)
    return out_dir
