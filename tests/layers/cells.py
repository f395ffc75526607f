"""One small instance of every public kerasrnn cell, for tests that must cover them all."""

from kerasrnn.layers import TextbookGRUCell, TextbookLSTMCell, URNNCell, VanillaRNNCell

CELL_FACTORIES = {
    "vanilla": lambda units: VanillaRNNCell(units),
    "vanilla-relu": lambda units: VanillaRNNCell(units, activation="relu"),
    "gru": lambda units: TextbookGRUCell(units),
    "lstm": lambda units: TextbookLSTMCell(units),
    "urnn-matrix": lambda units: URNNCell(units, seed=2),
    "urnn-fft": lambda units: URNNCell(units, implementation="fft", seed=2),
}
