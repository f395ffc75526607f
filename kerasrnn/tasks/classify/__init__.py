"""Text classification (`--task classify`): a text's tokens → recurrent layers → one class.

| module          | what it holds                                                                    |
| --------------- | -------------------------------------------------------------------------------- |
| `task.py`       | `ClassifyConfig`, `ClassifyTask`: settings, hooks of the run, `classify`         |
| `evaluation.py` | `Evaluation`: a split scored (accuracy, loss, precision / recall, confusion)     |
| `data.py`       | texts → token ids (`TextVectorization`, words or characters), padded batches     |
| `model.py`      | the network (masked embedding → recurrent layers → pooling → logits), datasets   |
| `pooling.py`    | `MaskedPooling`: max, mean or attention pooling over time, padding left out      |
| `export.py`     | the SavedModel signature `classify`                                              |

The labelled data themselves are read by `kerasrnn.data.labelled_texts`.
"""

from kerasrnn.tasks.classify.task import ClassifyConfig, ClassifyTask

__all__ = ["ClassifyConfig", "ClassifyTask"]
