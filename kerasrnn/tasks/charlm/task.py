"""Character language modelling (task `charlm`): predict each next character of a text (char-RNN).

The network is an embedding, one or more recurrent layers chosen by name (`kerasrnn.recurrent`),
optionally with residual connections between stacked layers (x_{l} = x_{l−1} + RNN_l(x_{l−1}), the
lecture's ResNet shortcut), dropout, and a dense layer giving logits over the vocabulary (the softmax
is in the loss); see `model`. Its input is ids from `data.make_char_lookup`: `[BOS]` then characters.

A file or folder of more than 1 MiB (or any, with `streaming="always"`) is streamed: read twice in
pieces into an id file in the user's cache, never whole into memory (`kerasrnn.data.corpus_stream`);
it gives the same vocabulary, windows and losses as the in-memory path, which smaller corpora and
the named ones keep (it writes nothing to the disk, and reads windows faster).

With `carry_state` the model trains by truncated backpropagation through time over the text in order,
as char-rnn does: each batch row reads its own part of the training text, window after window, and
starts each window from the state where its last one ended (`carried_state`, `data.carried_windows`).

Losses are in nats per character and bits per character (nats / ln 2), always shown next to the
unigram baseline: the cross-entropy on the evaluated split of the training split's character
frequencies. A model that has learned nothing about context scores the baseline. Two losses are
reported (`Evaluation`): the window loss (independent windows of the training length, each from the
initial state: the engine's validation loss) and the carried-state loss (the whole split read in
order, the state carried throughout: what char-rnn-style figures mean, lower by the context the
windows cut off). After training the run directory also holds `sample.txt`, 300 characters drawn
from the best model.

Example:

```python
from kerasrnn.engine.run import train

task = CharLMTask()
result = train(task, CharLMConfig(units=128), TrainConfig(epochs=2, steps_per_epoch=50), Path("runs/a"))
print(result.summary())
print(task.generate(Path("runs/a"), prompt="The ", length=200))
```
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any

from kerasrnn import checks
from kerasrnn.data.corpus import STREAMING_MODES
from kerasrnn.engine.run_dir import VOCABULARY_FILE, check_run_dir
from kerasrnn.engine.train_config import TrainConfig
from kerasrnn.errors import OptionError, UserInputError
from kerasrnn.fileio import write_text
from kerasrnn.tasks.base import Task
from kerasrnn.tasks.capabilities import Finishes, Generates
from kerasrnn.tasks.text_tasks import absolute_data_path, cross_entropy_arguments
from kerasrnn.tasks.network_config import NetworkConfig

logger = logging.getLogger(__name__)

# This module stays light (no TensorFlow at import), so that the CLI can read the defaults of
# `CharLMConfig` for `--help`; the network, data and sampling modules are imported where needed.

SAMPLE_FILE = "sample.txt"
SAMPLE_LENGTH = 300
SAMPLE_TEMPERATURE = 0.8
EVALUATION_BATCH = 64


@dataclasses.dataclass(frozen=True)
class CharLMConfig(NetworkConfig):
    """Settings of the character language model and its data.

    Attributes (besides `NetworkConfig`'s; `dropout` is applied after each recurrent layer):
      residual: add each stacked layer's input to its output (from the second layer on).
      sequence_length: characters per training window (the length of backpropagation through time).
      data: corpus: `"python_docs"`, `"tiny_shakespeare"`, or a path to a UTF-8 file or folder.
      data_dir: tensorflow-datasets folder for the named corpora; None: tfds's default.
      streaming: how a file or folder is read: `"auto"` (default) streams one of more than
        `kerasrnn.data.corpus_stream.STREAMING_THRESHOLD_BYTES` (1 MiB) through an id file on disk
        and reads a smaller one into memory; `"always"` streams it, `"never"` reads it into memory.
        The named corpora are always read into memory. Both ways train the same model.
      carry_state: train by truncated backpropagation through time over the text in order (char-rnn's
        way, the default): batch row i reads its own contiguous part of the training split window
        after window, each window starting from the state where the row's previous one ended
        (`data.carried_windows`, `carried_state.CarriedState`). False: independent windows from
        random places, each from the initial state. One device only (not with `--distribute
        mirrored` or `multi-worker`, where the CLI turns it off unless it is asked for).

    The defaults are those of `kerasrnn train` with no options: the fused GRU of 512 units with
    dropout 0.4, reading 200-character windows with the state carried, which reaches about 1.26
    nats/char on python_docs in 525 steps (about 3.5 minutes on two CPU cores; `default_train_config`
    and docs/charlm.md say how it was chosen). For a quick try, fewer `units` train faster.
    """

    cell: str = "gru"
    units: int = 512
    dropout: float = 0.4
    residual: bool = False
    sequence_length: int = 200
    data: str = "python_docs"
    data_dir: str | None = None
    streaming: str = "auto"
    carry_state: bool = True

    def __post_init__(self):
        super().__post_init__()
        checks.positive_int("sequence length", self.sequence_length)
        checks.non_empty_text("no corpus given: name one or give the path of a UTF-8 text file", self.data)
        checks.one_of("streaming mode", self.streaming, STREAMING_MODES)
        if not isinstance(self.carry_state, bool):
            raise UserInputError(f"carry state must be True or False, got {self.carry_state!r}")


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Loss of a model on one split, with the unigram baseline, all in nats per character.

    Two losses, which differ by what the model knows at the start of a window:
      loss: the window figure: the split cut into independent windows of the training length, each
        read from the initial state after `[BOS]` (the first characters of each window are guessed
        without context). The engine's `val_loss`, and what selects the best epoch.
      carried_loss: the carried-state figure: the whole split read in order, the state carried from
        character to character (`model.carried_loss`): what char-rnn-style numbers mean, and what a
        sample drawn one character at a time sees. Lower by the context the windows lose.
    """

    split: str
    loss: float
    baseline: float
    characters: int
    carried_loss: float | None = None
    carried_characters: int = 0
    sequence_length: int = 0
    carried_streams: int = 1

    @property
    def bits(self) -> float:
        return self.loss / math.log(2.0)

    @property
    def carried_bits(self) -> float | None:
        return None if self.carried_loss is None else self.carried_loss / math.log(2.0)

    @property
    def baseline_bits(self) -> float:
        return self.baseline / math.log(2.0)

    def summary(self) -> str:
        windows = (f" in independent {self.sequence_length}-character windows, each from the initial state"
                   if self.sequence_length else "")
        lines = [f"{self.split.capitalize()} loss {self.loss:.4f} nats/char = {self.bits:.4f} bits/char over "
                 f"{self.characters:,} characters{windows}; unigram baseline {self.baseline:.4f} nats/char = "
                 f"{self.baseline_bits:.4f} bits/char (the model's loss is {self.loss / self.baseline:.0%} of it)"]
        if self.carried_loss is not None:
            parts = f" (in {self.carried_streams} parts side by side)" if self.carried_streams > 1 else ""
            lines.append(f"{self.split.capitalize()} loss with the state carried through the text (char-rnn's "
                         f"figure): {self.carried_loss:.4f} nats/char = {self.carried_bits:.4f} bits/char over "
                         f"all {self.carried_characters:,} characters read in order{parts}")
        return "\n".join(lines)

    def as_metrics(self) -> dict:
        metrics = {
            f"{self.split}_nats_per_char": self.loss,
            f"{self.split}_bits_per_char": self.bits,
            "unigram_baseline_nats_per_char": self.baseline,
            "unigram_baseline_bits_per_char": self.baseline_bits,
            f"{self.split}_characters": self.characters,
        }
        if self.carried_loss is not None:
            metrics.update({
                f"{self.split}_carried_nats_per_char": self.carried_loss,
                f"{self.split}_carried_bits_per_char": self.carried_bits,
                f"{self.split}_carried_characters": self.carried_characters,
                f"{self.split}_carried_streams": self.carried_streams,
            })
        return metrics


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The vocabulary and the corpus, as the network and the datasets take them."""

    characters: list[str]
    lookup: Any  # a StringLookup from `data.make_char_lookup`
    corpus: Any  # a `kerasrnn.data.corpus.CharCorpus`, or a `corpus_stream.StreamedCorpus`
    evaluation_batch: int
    id_file: Any = None  # a streamed corpus's ids in this vocabulary (`corpus_stream.IdFile`)
    batch_size: int | None = None  # of training (the rows whose state is carried); None: evaluation only

    def ids(self, split: str):
        """The ids of `split`: an int32 tensor, or an `IdSpan` of a streamed corpus."""
        from kerasrnn.tasks.charlm import data

        if self.id_file is not None:
            return self.id_file.split(split)
        return data.encode(self.lookup, self.corpus.split(split))


class CharLMTask(Task, Generates, Finishes):
    """The character language model of the lecture's sequence generation (see the module docstring)."""

    name = "charlm"
    config_class = CharLMConfig
    loss_unit = "nats/char"
    exporter = "kerasrnn.tasks.charlm.export"
    baseline_metric = "unigram_baseline_nats_per_char"
    single_device_defaults = {"carry_state": False}  # see `_check_one_replica`

    def default_train_config(self, config: CharLMConfig) -> TrainConfig:
        """Batches of 32 windows, 7 epochs of 75 steps (525 steps), Adam 2e-2 warmed up over 50
        steps then cosine-decayed to a tenth, gradients clipped to norm 1.

        Chosen with `benchmarks/bench_charlm_default.py` for the default `CharLMConfig` (a large
        model, seen for few steps: many small batches and a high rate learn the most per second;
        3e-2 diverges). With other settings the same numbers are a starting point, no more."""
        return TrainConfig(epochs=7, steps_per_epoch=75, batch_size=32, learning_rate=2e-2, warmup_steps=50)

    def resolve(self, config: CharLMConfig) -> CharLMConfig:
        """The config with `data` made absolute if it names an existing file or folder (not a
        corpus), so that `evaluate` and `--resume` find it from any working directory."""
        from kerasrnn.data.corpus import CORPUS_NAMES

        return dataclasses.replace(config, data=absolute_data_path(config.data, CORPUS_NAMES))

    def reads_only_local_files(self, config: CharLMConfig) -> bool:
        from kerasrnn.data.corpus import CORPUS_NAMES

        return config.data not in CORPUS_NAMES

    def load_data(self, config: CharLMConfig):
        """A `CharCorpus` in memory, or a `StreamedCorpus` (see `CharLMConfig.streaming`)."""
        from kerasrnn.data.corpus import check_long_enough, load_char_corpus
        from kerasrnn.data.corpus_stream import scan_char_corpus, should_stream

        if should_stream(config.data, config.streaming):
            corpus = scan_char_corpus(config.data)
            logger.info("Streaming %r", corpus)
        else:
            corpus = load_char_corpus(config.data, config.data_dir)
        check_long_enough(corpus, config.sequence_length)
        return corpus

    def prepare(self, config, train_config, corpus, run_dir: Path, *, resume: bool) -> Prepared:
        from kerasrnn.data.corpus_stream import StreamedCorpus
        from kerasrnn.tasks.charlm import data

        if resume:
            characters = data.load_vocabulary(run_dir / VOCABULARY_FILE)
        elif isinstance(corpus, StreamedCorpus):
            characters = list(corpus.characters)
        else:
            characters = data.corpus_characters(corpus.train)
        lookup = data.make_char_lookup(characters)
        if config.carry_state:  # a batch row for every stream of the text, or one line now
            data.StreamLayout(corpus.size("train"), config.sequence_length, train_config.batch_size)
        data.save_vocabulary(lookup, run_dir / VOCABULARY_FILE)
        return dataclasses.replace(self._prepared(characters, lookup, corpus, train_config.batch_size),
                                   batch_size=train_config.batch_size)

    def restore(self, config, corpus, run_dir: Path) -> Prepared:
        from kerasrnn.tasks.charlm import data

        characters = data.load_vocabulary(run_dir / VOCABULARY_FILE)
        return self._prepared(characters, data.make_char_lookup(characters), corpus, EVALUATION_BATCH)

    @staticmethod
    def _prepared(characters, lookup, corpus, evaluation_batch: int) -> Prepared:
        """`Prepared`, with a streamed corpus's ids written (once; then read from the cache)."""
        from kerasrnn.data.corpus_stream import StreamedCorpus

        id_file = corpus.ids(characters) if isinstance(corpus, StreamedCorpus) else None
        return Prepared(characters, lookup, corpus, evaluation_batch, id_file)

    def steps_per_epoch(self, config, train_config, prepared: Prepared) -> int:
        if config.carry_state:  # one pass of every row over its part of the text
            from kerasrnn.tasks.charlm import data

            return data.StreamLayout(prepared.corpus.size("train"), config.sequence_length,
                                     train_config.batch_size).windows
        return max(1, prepared.corpus.size("train") // (config.sequence_length * train_config.batch_size))

    def training_memory(self, config, train_config, prepared: Prepared) -> int:
        from kerasrnn.engine.memory import recurrent_training_bytes

        return recurrent_training_bytes(cell=config.cell, units=config.units, layers=config.layers,
                                        inputs=config.embedding_dim, vocabulary=prepared.lookup.vocabulary_size(),
                                        batch_size=train_config.batch_size, steps=config.sequence_length)

    def build_model(self, config, prepared: Prepared, *, seed: int):
        from kerasrnn.tasks.charlm.model import build_char_lm

        if config.carry_state:
            _check_one_replica()
        return build_char_lm(config, prepared.lookup.vocabulary_size(), seed=seed, rows=prepared.batch_size)

    def load_model(self, run_dir: Path):
        import kerasrnn.tasks.charlm.carried_state  # noqa: F401 - registers CarriedState for loading

        return super().load_model(run_dir)

    def compile_arguments(self, config, prepared: Prepared) -> dict:
        from kerasrnn.tasks.charlm.model import loss_function

        return cross_entropy_arguments(loss_function())

    def datasets(self, config, train_config, prepared: Prepared, *, first_step: int = 0):
        from kerasrnn.tasks.charlm import data

        windows = data.carried_windows if config.carry_state else data.random_windows
        return (
            windows(prepared.ids("train"), config.sequence_length, train_config.batch_size, train_config.seed,
                    first_step),
            data.consecutive_windows(prepared.ids("validation"), config.sequence_length,
                                     train_config.batch_size),
        )

    def evaluate_model(self, model, config, prepared: Prepared, split: str, run_dir: Path) -> Evaluation:
        """The window and the carried-state loss of `model` on `split` (see `Evaluation`)."""
        from kerasrnn.tasks.charlm import data
        from kerasrnn.tasks.charlm.model import carried_loss, evaluate_loss

        ids = prepared.ids(split)
        unknown = data.unknown_share(ids)
        if unknown >= 0.5:
            logger.warning("Warning: %.0f%% of the characters of the %s text were never seen in training: its "
                           "loss and baseline say little", 100 * unknown, split)
        covered = data.covered_ids(ids, config.sequence_length)
        baseline = data.unigram_cross_entropy(prepared.ids("train"), covered,
                                              prepared.lookup.vocabulary_size())
        loss = evaluate_loss(model, ids, config.sequence_length, prepared.evaluation_batch)
        carried, streams = carried_loss(model, config, ids)
        return Evaluation(split, loss, baseline, int(covered.size), carried, data.id_count(ids),
                          config.sequence_length, streams)

    def output_classes(self, config, prepared: Prepared) -> int:
        return prepared.lookup.vocabulary_size()

    def finish(self, model, config, train_config, prepared: Prepared, run_dir: Path) -> list[str]:
        from kerasrnn.tasks.charlm.sampling import CharSampler

        sampler = CharSampler(model, config, prepared.characters)
        sample = sampler.sample("", SAMPLE_LENGTH, temperature=SAMPLE_TEMPERATURE, seed=train_config.seed)
        write_text(run_dir / SAMPLE_FILE, sample)
        return [f"Sample ({len(sample)} characters, empty prompt, temperature {SAMPLE_TEMPERATURE}):", sample]

    def generate(self, run_dir: Path, prompt: str = "", length: int = 300, *, temperature: float = 0.8,
                 top_k: int | None = None, seed: int = 0, device: str = "auto", num_samples: int | None = None):
        """`length` characters sampled from a run's best model after `prompt` (the prompt not included);
        `"".join(generate_stream(…))`.

        `num_samples` None (the default): one text, a str. An int N: a list of N texts drawn in one
        batch (see `CharSampler.sample`: row 0 is the text of None, row b the same for every N > b).

        Raises:
          UserInputError: not a run directory; length, temperature or top-k not positive; a prompt
            made only of characters the model never saw (an empty prompt is fine); a number of
            samples outside [1, MAX_NUM_SAMPLES], or more than MAX_BATCH_CHARACTERS in all.
        """
        pieces = self.generate_stream(run_dir, prompt, length, temperature=temperature, top_k=top_k, seed=seed,
                                      device=device, num_samples=num_samples)
        if num_samples is None:
            return "".join(pieces)
        rows = [[] for _ in range(num_samples)]
        for texts in pieces:  # one string per row and piece: Python strings, not a tensor of characters
            for row, text in zip(rows, texts):
                row.append(text)
        return ["".join(row) for row in rows]

    def generate_stream(self, run_dir: Path, prompt: str = "", length: int = 300, *, temperature: float = 0.8,
                        top_k: int | None = None, seed: int = 0, device: str = "auto",
                        num_samples: int | None = None):
        """The sample of `generate` in pieces, each as soon as it is drawn (a 10-million-character
        sample starts at once, and Ctrl-C keeps what was printed); with `num_samples` N, each piece a
        list of N strings. The checks run before the first piece; see `generate`."""
        from kerasrnn.engine.devices import select_device
        from kerasrnn.tasks.charlm import data
        from kerasrnn.tasks.charlm.sampling import CharSampler

        config, _ = self.load_configs(run_dir)
        check_run_dir(run_dir)
        characters = data.load_vocabulary(Path(run_dir) / VOCABULARY_FILE)
        CharSampler.check_arguments(prompt, length, temperature, top_k, characters, num_samples=num_samples)
        select_device(device)
        sampler = CharSampler(self.load_model(run_dir), config, characters)
        return sampler.stream(prompt, length, temperature=temperature, top_k=top_k, seed=seed,
                              num_samples=num_samples)


def _check_one_replica() -> None:
    """Carried state is refused under a strategy of several replicas or workers: each replica would
    carry the states of its own rows in variables the backup reads from one replica only, so neither
    the run nor its resumption would be exact."""
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    if strategy.num_replicas_in_sync > 1 or isinstance(
            strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)):
        raise OptionError("--carry-state trains on one device only: each replica would carry the states "
                          "of its own batch rows, which cannot be backed up and resumed exactly; use "
                          "--distribute none")
