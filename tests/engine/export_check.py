"""Calls the signatures of exported SavedModels with TensorFlow alone; for `tests/engine/test_export.py`.

    python -I tests/engine/export_check.py < requests.jsonl     # from a folder outside the repository

Reads one JSON request per line of standard input, as the tests write them, so that it checks each
export while the tests still make the next: `{"path": folder, "calls": [{"signature": name,
"inputs": {…}}, …], "result": file}`. Each input is a value for `tf.constant` in the dtype of the
signature's input, or `{"output_of": [call index, output name]}`: an output of an earlier call to
the same export (such as the state `initial_state` returned). `"imports"`, if given, names modules
of op libraries to import first (`tensorflow_text` for a run with subword tokens). Writes to `result` the export's
signatures (inputs and outputs: name → [dtype, shape]) and, per call, every output as nested lists
(strings decoded from UTF-8; NaN as NaN).

It never imports kerasrnn, nor keras itself (TensorFlow may load parts of keras on its own), and
makes kerasrnn impossible to import before TensorFlow loads anything: an export must not need the
library that wrote it. `-I` alone is not enough, since an editable install (`pip install -e .`) puts
the checkout on every interpreter's import path.
"""

import importlib.util
import json
import sys


class RefuseKerasrnn:
    """An import finder that fails every import of kerasrnn, ahead of every other finder."""

    def find_spec(self, name, path=None, target=None):
        if name == "kerasrnn" or name.startswith("kerasrnn."):
            raise ModuleNotFoundError(f"{name} was imported while loading an export: exports must not need kerasrnn")
        return None


sys.meta_path.insert(0, RefuseKerasrnn())
try:
    importlib.import_module("kerasrnn")
    raise AssertionError("kerasrnn is still importable")
except ModuleNotFoundError:
    pass

import tensorflow as tf  # noqa: E402


def decoded(value):
    """Nested lists with every bytes string decoded from UTF-8."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def describe(signature) -> dict:
    """A signature's inputs and outputs: name → [dtype name, shape with None for any size]."""
    def specs(structure):
        return {name: [spec.dtype.name, spec.shape.as_list()] for name, spec in sorted(structure.items())}

    return {"inputs": specs(signature.structured_input_signature[1]),
            "outputs": specs(signature.structured_outputs)}


def run_calls(path: str, calls: list) -> dict:
    exported = tf.saved_model.load(path)
    outputs = []
    for call in calls:
        signature = exported.signatures[call["signature"]]
        specs = signature.structured_input_signature[1]
        inputs = {}
        for name, value in call["inputs"].items():
            if isinstance(value, dict):
                index, key = value["output_of"]
                inputs[name] = outputs[index][key]
            else:
                inputs[name] = tf.constant(value, specs[name].dtype)
        outputs.append(signature(**inputs))
    return {
        "signatures": {name: describe(signature) for name, signature in exported.signatures.items()},
        "outputs": [{key: decoded(value.numpy().tolist()) for key, value in result.items()}
                    for result in outputs],
    }


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        for name in request.get("imports", []):
            importlib.import_module(name)
        result = run_calls(request["path"], request["calls"])
        assert "kerasrnn" not in sys.modules
        with open(request["result"], "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False)


if __name__ == "__main__":
    main()
