"""Build a tiny but real ``.argosmodel`` offline (shared/notes/argos-offline-testing.md §2).

Every part is what argos-translate loads from a real package: ``metadata.json``, a
SentencePiece tokenizer, a CTranslate2 Transformer (1 layer, width 16, random weights)
and a MiniSBD sentence splitter (a 3.5 KB ONNX graph splitting after . ? !). The decoder's
bias on ``</s>`` makes every sentence translate to one token, the same on every run: the
output is nonsense, but it comes through argos-translate's real code path. Takes ~0.2 s.
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

SENTENCES = [
    "Where is my parcel?", "My order {n} has not arrived.", "The cup arrived broken.", "Thank you very much!",
    "I want a refund of {n} euros.", "Can you send another one today?", "Onde está a minha encomenda?",
    "A minha encomenda {n} não chegou.", "A chávena chegou partida.", "Muito obrigada!", "Quero o reembolso.",
    "Podem enviar outra hoje?", "¿Dónde está mi pedido?", "Mi pedido {n} no ha llegado.", "Wo ist mein Paket?",
]
DIM, FFN = 16, 32


def _sentencepiece(corpus: list[str]) -> bytes:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, vocab_size=120,
                                             model_type="bpe", character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    return model.getvalue()


def _ctranslate2_model(folder: Path, pieces: list[str], seed: int) -> None:
    import numpy as np
    from ctranslate2.specs import TransformerSpec
    from ctranslate2.specs.model_spec import visit_spec

    rng = np.random.default_rng(seed)
    spec = TransformerSpec.from_config(num_layers=1, num_heads=2)
    vocab = len(pieces)

    def shape(scope: str) -> tuple[int, ...]:
        if "embeddings" in scope or "projection" in scope:
            return (vocab, DIM)
        if "self_attention/linear_0" in scope:
            return (3 * DIM, DIM) if scope.endswith("weight") else (3 * DIM,)
        if "attention/linear_1" in scope and "self_attention" not in scope:
            return (2 * DIM, DIM) if scope.endswith("weight") else (2 * DIM,)
        if "ffn/linear_0" in scope:
            return (FFN, DIM) if scope.endswith("weight") else (FFN,)
        if "ffn/linear_1" in scope:
            return (DIM, FFN) if scope.endswith("weight") else (DIM,)
        return (DIM, DIM) if scope.endswith("weight") else (DIM,)

    def fill(layer, scope: str, value) -> None:
        if value is not None:
            return
        name = scope.rsplit("/", 1)[-1]
        if name == "gamma":
            array = np.ones(DIM, dtype=np.float32)
        elif name == "beta":
            array = np.zeros(DIM, dtype=np.float32)
        else:
            array = rng.normal(0, 0.2, shape(scope)).astype(np.float32)
        setattr(layer, name, array)

    visit_spec(spec, fill)
    bias = np.zeros(vocab, dtype=np.float32)
    bias[2] = 3.0  # </s>: every sentence ends after one token
    spec.decoder.projection.bias = bias
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    spec.validate()
    spec.optimize(quantization=None)
    folder.mkdir()
    spec.save(str(folder))


def _sentence_splitter(lang: str) -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    units = ["<PAD>", "<UNK>", *sorted(set("".join(SENTENCES).replace("{n}", "0123456789")))]
    table = np.zeros((len(units), 5), dtype=np.float32)
    for index, unit in enumerate(units):
        table[index, 2 if unit in ".?!" else 0] = 10.0
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "units"], ["by_unit"], axis=0),
         helper.make_node("MatMul", ["features", "zeros"], ["by_feature"]),
         helper.make_node("Add", ["by_unit", "by_feature"], ["logits"])],
        "tiny_sbd",
        [helper.make_tensor_value_info("units", TensorProto.INT64, ["B", "T"]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["B", "T", 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", "T", 5])],
        initializer=[numpy_helper.from_array(table, "table"),
                     numpy_helper.from_array(np.zeros((2, 5), dtype=np.float32), "zeros")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    vocab = {"lang": lang, "idx": 0, "cutoff": 0, "lower": False, "_id2unit": units,
             "_unit2id": {unit: index for index, unit in enumerate(units)}}
    config = {"feat_funcs": ["space_before", "capitalized"], "max_seqlen": 300, "use_dictionary": False}
    helper.set_model_props(model, {"lang_code": lang, "config": json.dumps(config), "vocab": json.dumps(vocab)})
    return model.SerializeToString()


def build_tiny_model(dest: Path, source: str, target: str, *, seed: int = 7, version: str = "1.0",
                     corrupt: bool = False) -> Path:
    """Write ``dest/translate-<source>_<target>-<version>.argosmodel`` and return its path.

    Args:
        source, target: Argos language codes (``pt``, ``en``, ``zt``).
        seed: the random weights' seed (another seed, another one-token output).
        corrupt: ship a truncated ``model.bin``, so that loading the model fails.
    """
    corpus = [s.replace("{n}", str(n)) for n in range(1, 30) for s in SENTENCES]
    name = f"translate-{source}_{target}-{version.replace('.', '_')}"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        root.mkdir()
        sp_bytes = _sentencepiece(corpus)
        (root / "sentencepiece.model").write_bytes(sp_bytes)
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(model_proto=sp_bytes)
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        _ctranslate2_model(root / "model", pieces, seed)
        if corrupt:
            model_bin = root / "model" / "model.bin"
            model_bin.write_bytes(model_bin.read_bytes()[:100])
        (root / "minisbd").mkdir()
        (root / "minisbd" / f"{source}.onnx").write_bytes(_sentence_splitter(source))
        (root / "metadata.json").write_text(json.dumps({
            "package_version": version, "argos_version": "1.11.0", "from_code": source, "to_code": target,
            "from_name": source, "to_name": target, "type": "translate"}))
        dest.mkdir(parents=True, exist_ok=True)
        archive = dest / f"{name}{'-corrupt' if corrupt else ''}.argosmodel"
        with zipfile.ZipFile(archive, "w") as out:
            for path in sorted(root.rglob("*")):
                out.write(path, path.relative_to(Path(tmp)).as_posix())
        shutil.rmtree(root)
    return archive
