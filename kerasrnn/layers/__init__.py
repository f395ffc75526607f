"""The lecture's recurrent cells as Keras 3 layers.

Every cell works inside `keras.layers.RNN` on any Keras backend:

    from kerasrnn.layers import TextbookGRUCell
    layer = keras.layers.RNN(TextbookGRUCell(64), return_sequences=True)
"""

from kerasrnn.layers.gru import TextbookGRU, TextbookGRUCell
from kerasrnn.layers.lstm import TextbookLSTM, TextbookLSTMCell
from kerasrnn.layers.urnn import URNN, URNNCell
from kerasrnn.layers.vanilla import VanillaRNN, VanillaRNNCell

__all__ = [
    "VanillaRNNCell", "TextbookGRUCell", "TextbookLSTMCell", "URNNCell",
    "VanillaRNN", "TextbookGRU", "TextbookLSTM", "URNN",
]
