"""kerasrnn: the recurrent networks of a lecture on RNNs, as Keras 3 layers and trainable tasks."""

__version__ = "0.1.0"
