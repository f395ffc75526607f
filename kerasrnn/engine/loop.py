"""The training loop of every run, on one device or many: `strategy.run` steps driven like `model.fit`.

Keras 3's `fit` does not run under `tf.distribute.MultiWorkerMirroredStrategy` (keras-team/keras#20585:
"Attempt to convert a value (PerReplica…) to a Tensor"), and under any strategy it clips each
replica's part of the gradient before summing them, so a clipped run on R replicas is not the run on
one device. This loop is the one training path for all strategies, the default one included:

- a step (`TrainStep`) runs the model's forward pass and loss (`model.compute_loss`, which scales by
  1/R per replica) and the gradient on every replica, sums the gradients across replicas (and
  workers), then applies them once, in cross-replica context, with the compiled optimizer: its
  clipping sees the whole batch's gradient, as on one device;
- the loss and metrics are the model's own metric objects (synchronised on read), so the logs are
  those of the whole global batch;
- validation runs distributed too, its losses summed, never averaged over uneven replica batches;
- the callbacks get the calls `fit` makes (`on_epoch_begin`, `on_train_batch_begin/end`,
  `on_test_begin/end`, `on_epoch_end` with `val_` logs), with Keras's own `CallbackList` (and its
  progress bar), so the run's callbacks work unchanged;
- a stop asked by a callback is agreed by all workers (the largest wish wins), so no worker waits
  for a step the others will not take.

Example:

```python
with strategy.scope():
    model = build(); model.compile(optimizer=..., loss=...)
train_loop(model, strategy, train_data, validation_data, callbacks, epochs=3, steps_per_epoch=50)
```
"""

from __future__ import annotations

import logging

import keras
import tensorflow as tf

from kerasrnn.engine.tracing import traced_once

logger = logging.getLogger(__name__)


def _unpack(data):
    return keras.utils.unpack_x_y_sample_weight(data)


def _unscaled(loss):
    """A replica's loss as its own batch's mean: Keras's losses divide it by the replica count."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss * tf.cast(replicas, loss.dtype) if replicas > 1 else loss


def _batch_size(x) -> tf.Tensor:
    return tf.shape(tf.nest.flatten(x)[0])[0]


class TrainStep:
    """One training step and one validation batch of a compiled `model` under `strategy`.

    The step takes the iterator, whose type never changes: one trace. A validation batch is passed
    itself, and batches differ in size (the last one) and length (texts): `validation_spec`, the
    validation dataset's element spec (unknown batch and length), makes that one trace too.
    """

    def __init__(self, model, strategy, validation_spec=None):
        self.model, self.strategy = model, strategy
        self.train = tf.function(self._train, reduce_retracing=True)
        self.test = (tf.function(self._test, reduce_retracing=True) if validation_spec is None
                     else traced_once(self._test, [validation_spec]))

    def _replica_gradients(self, data):
        model = self.model
        x, y, sample_weight = _unpack(data)
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)
            # The loss tracker is Keras's own (what `fit` logs as "loss"); it has no public handle.
            model._loss_tracker.update_state(_unscaled(loss), sample_weight=_batch_size(x))
            scaled = model.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, model.trainable_variables)
        model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        return gradients

    def _train(self, iterator):
        strategy, model = self.strategy, self.model
        gradients = strategy.run(self._replica_gradients, args=(next(iterator),))
        if strategy.num_replicas_in_sync > 1:
            gradients = [None if g is None else strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None)
                         for g in gradients]
        model.optimizer.apply(gradients, model.trainable_variables)
        return model.get_metrics_result()

    def _replica_test(self, data):
        model = self.model
        x, y, sample_weight = _unpack(data)
        y_pred = model(x, training=False)
        count = _batch_size(x)
        loss = _unscaled(model.compute_loss(x, y, y_pred, sample_weight, training=False))
        model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        # A replica can get an empty last batch, whose mean loss is NaN: it weighs nothing.
        weighted = tf.where(count > 0, loss * tf.cast(count, loss.dtype), tf.zeros_like(loss))
        return weighted, tf.cast(count, loss.dtype)

    def _test(self, data):
        strategy = self.strategy
        weighted, count = strategy.run(self._replica_test, args=(data,))
        reduce = tf.distribute.ReduceOp.SUM
        return strategy.reduce(reduce, weighted, axis=None), strategy.reduce(reduce, count, axis=None)

    def evaluate(self, dataset, callbacks) -> dict[str, float]:
        """The loss and metrics over `dataset` (distributed), as `fit` logs them (without `val_`)."""
        model = self.model
        model.reset_metrics()
        callbacks.on_test_begin()
        total, count = 0.0, 0.0
        for batch, data in enumerate(dataset):
            callbacks.on_test_batch_begin(batch)
            weighted, size = self.test(data)
            total, count = total + float(weighted), count + float(size)
            callbacks.on_test_batch_end(batch)
        logs = {key: float(value) for key, value in model.get_metrics_result().items()}
        logs["loss"] = total / count if count else float("nan")
        callbacks.on_test_end(logs)
        return logs


def train_loop(model, strategy, train_data, validation_data, callbacks, *, epochs: int,
               steps_per_epoch: int, initial_epoch: int = 0, verbose: str | int = "auto") -> None:
    """Trains a compiled `model` (built in `strategy.scope()`) from `initial_epoch` to `epochs`.

    Args:
      train_data: an endless `tf.data.Dataset` of global batches.
      validation_data: a finite one, evaluated after every epoch.
      callbacks: Keras callbacks, called as `fit` calls them.
      verbose: 0, 1 (progress bar), 2 (a line per epoch) or "auto" (1), as `fit`'s.
    """
    verbose = 1 if verbose == "auto" else verbose
    callbacks = keras.callbacks.CallbackList(callbacks, add_history=False, add_progbar=verbose != 0,
                                             verbose=verbose, epochs=epochs, steps=steps_per_epoch,
                                             model=model)
    step, iterator, validation = _start(model, strategy, train_data, validation_data)
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        logs = {}
        for batch in range(steps_per_epoch):
            callbacks.on_train_batch_begin(batch)
            logs = {key: float(value) for key, value in step.train(iterator).items()}
            callbacks.on_train_batch_end(batch, logs)
            if model.stop_training:
                break
        epoch_logs = dict(logs)
        epoch_logs.update({f"val_{key}": value for key, value in step.evaluate(validation, callbacks).items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        if _agreed_stop(strategy, model.stop_training):
            break
    callbacks.on_train_end()


def _start(model, strategy, train_data, validation_data):
    """The step functions, the training iterator and the validation dataset, distributed."""
    with strategy.scope():
        # Build the optimizer, loss and metrics before tracing: variables cannot be made in a step.
        model._symbolic_build(data_batch=train_data.element_spec)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        options = tf.data.Options()
        # Every worker computes the same stream of global batches and keeps its part of each, so
        # that R replicas see exactly the batches one device would.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        iterator = iter(strategy.experimental_distribute_dataset(train_data.with_options(options)))
        validation = strategy.experimental_distribute_dataset(validation_data.with_options(options))
        step = TrainStep(model, strategy, validation.element_spec)
    return step, iterator, validation


def measure_seconds(model, strategy, train_data, validation_data, *, steps: int = 8,
                    validation_batches: int = 4) -> tuple[float, float]:
    """Seconds per training step and per validation batch of a compiled `model` (whose weights
    this changes: use a throwaway copy), each median after one untimed call that traces it."""
    import statistics
    import time

    step, iterator, validation = _start(model, strategy, train_data, validation_data)
    times = []
    for _ in range(steps + 1):
        started = time.perf_counter()
        float(step.train(iterator)["loss"])  # float(): wait for the step
        times.append(time.perf_counter() - started)
    validation_times = []
    for index, data in enumerate(validation):
        if index > validation_batches:
            break
        started = time.perf_counter()
        float(step.test(data)[1])
        validation_times.append(time.perf_counter() - started)
    validation_time = statistics.median(validation_times[1:] or validation_times or [0.0])
    return statistics.median(times[1:]), validation_time


def _agreed_stop(strategy, wish: bool) -> bool:
    """Whether any worker wants to stop; every worker must ask, once an epoch."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return wish
    return bool(_count_wishes(strategy, tf.constant(1.0 if wish else 0.0)) > 0)


@tf.function
def _count_wishes(strategy, wish):
    return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.identity(wish)), axis=None)
