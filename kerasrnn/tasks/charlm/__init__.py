"""The character language model (`--task charlm`): p(x_1..T) = Π p(x_t | x_<t), sampled generatively.

| module        | what it holds                                                          |
| ------------- | ---------------------------------------------------------------------- |
| `task.py`     | `CharLMConfig`, `CharLMTask`: settings, hooks of the run, `generate`   |
| `data.py`     | characters → ids (`StringLookup`), training windows (random, or each row's stream in order), unigram baseline |
| `model.py`    | the network (embedding → recurrent layers → logits), its window loss and carried-state loss |
| `carried_state.py` | `CarriedState`: training windows that start where the row's last one ended |
| `sampling.py` | one character at a time with carried state, in one `tf.function` loop |
| `export.py`   | the SavedModel signatures `generate`, `step`, `initial_state`, `score` |
"""

from kerasrnn.tasks.charlm.task import CharLMConfig, CharLMTask

__all__ = ["CharLMConfig", "CharLMTask"]
