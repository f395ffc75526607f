"""`tf.function`s traced once per object, and a model's predictions through one.

TensorFlow warns "N out of the last M calls to F triggered tf.function retracing" when a function is
traced again and again (usually: its inputs change shape). Two causes meet in this project:

- Batches of different shapes (the last, shorter batch; texts of other lengths): Keras's
  `predict_on_batch` traces its predict function again for each new shape. `predictor(model)` and
  `traced_once` take an input signature whose batch and time are unknown, so they trace once.
- One function made per model: TensorFlow adds up the traces of every `tf.function` made from the
  same Python code, whichever object it belongs to (it keys them by the code object:
  tensorflow/tensorflow#42441, closed as expected; #43555). A process that builds several models (the
  tests, `compare`, a notebook, a command that trains then evaluates) is then told that "a function"
  retraces, although each was traced once. For a function with a full input signature, traced once
  by construction, that warning can only be this miscount: `traced_once` turns it off for that
  function alone (and `traced_per_object` for a function made per object whose shapes are relaxed
  after its first retrace), as TensorFlow does for the functions it restores from a SavedModel. Every other
  warning, and this one for any other function, is left as it is.

Example:

```python
predict = predictor(model)
for batch in batches:           # any batch size, any length: one trace
    logits = predict(batch)     # NumPy, as model.predict_on_batch returns
```
"""

from __future__ import annotations

import tensorflow as tf


def traced_once(python_function, input_signature, **options):
    """`tf.function(python_function, input_signature=…)`, without the retracing warning that
    TensorFlow gives when several such functions (one per object) have each been traced once."""
    function = tf.function(python_function, input_signature=input_signature, **options)
    # TensorFlow's own switch for this one warning (set on restored functions in
    # tensorflow/python/saved_model/function_deserialization.py); there is no public setter. With a
    # full input signature the function cannot retrace, so the warning could only be the miscount.
    function._omit_frequent_tracing_warning = True
    return function


def traced_per_object(python_function, **options):
    """`tf.function(python_function, reduce_retracing=True, …)` for a function made anew for each
    object (a sampler, a reading of a text), without the retracing warning TensorFlow sums over all
    of them. `reduce_retracing` bounds one object's traces: its first shapes, then the same shapes
    with the sizes that changed relaxed to unknown, so a warning could again only be the miscount."""
    function = tf.function(python_function, reduce_retracing=True, **options)
    function._omit_frequent_tracing_warning = True
    return function


def predictor(model):
    """`predict(inputs)`: `model(inputs, training=False)` as NumPy arrays, like
    `model.predict_on_batch`, traced once for batches of any size and length (the model's own input
    shapes: unknown batch, and time where the model leaves it open)."""
    signature = tf.nest.map_structure(lambda tensor: tf.TensorSpec(tensor.shape, tensor.dtype), model.input)
    function = traced_once(lambda inputs: model(inputs, training=False), [signature])

    def predict(inputs):
        specs = tf.nest.flatten(signature)  # a tuple of inputs for a list of them, as Keras takes it
        inputs = tf.nest.pack_sequence_as(signature, [tf.cast(value, spec.dtype) for value, spec
                                                      in zip(tf.nest.flatten(inputs), specs, strict=True)])
        return tf.nest.map_structure(lambda tensor: tensor.numpy(), function(inputs))

    return predict
