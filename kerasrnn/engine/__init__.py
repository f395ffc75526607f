"""The engine: how any task is trained, saved and exported, whatever it learns.

| module            | what it holds                                                              |
| ----------------- | -------------------------------------------------------------------------- |
| `train_config.py` | `TrainConfig`, the training settings every task shares                     |
| `settings.py`     | user settings → the frozen configs of a run (`train` and `compare` alike)  |
| `run_dir.py`      | the run directory's layout, creation, resume checks, configs and history   |
| `run_lock.py`     | one writer per run directory: an OS lock on `RUN/.lock`, naming its holder |
| `devices.py`      | CPU or GPU, dtype policy, a quiet TensorFlow import                        |
| `fitting.py`      | optimizer and schedule, training with the run's callbacks, history, curves |
| `loop.py`         | the one training loop: `strategy.run` steps driven like `model.fit`         |
| `tracing.py`      | `tf.function`s traced once per object; a model's predictions through one   |
| `distribution.py` | `--distribute`: one device, mirrored replicas, a multi-worker cluster       |
| `budget.py`       | `--time-budget`: the epochs that fit, planned, then re-planned every epoch |
| `schedule.py`     | the re-fittable cosine decay a time budget moves while training            |
| `callbacks.py`    | best model, history, early and divergence stops, backup, time budget, progress |
| `monitored.py`    | the measure a task's best model and early stop follow (validation loss or accuracy) |
| `backup.py`       | the state an exact resume needs (weights, optimizer, seeds, budget plan)   |
| `memory.py`       | the memory a training run needs, checked before anything is allocated      |
| `faults.py`       | fault injection for tests: crash or slow down at a step or in validation   |
| `run.py`          | `train(task, …)`: the one run skeleton every task goes through             |
| `exporting.py`    | `export_run`: a run as a SavedModel, written atomically                    |

The engine knows tasks only through the contract of `kerasrnn.tasks.base.Task`, and no task's name;
it imports nothing of `kerasrnn.tasks`: whoever calls it hands it the task (the command line finds
a saved run's in its `config.json`). Files reach the disk through `kerasrnn.fileio`, whole or not
at all, and figures through `kerasrnn.figures`.
"""
