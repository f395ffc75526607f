"""Studies of trained and untrained networks, built on the tasks and the run skeleton.

- `gradients`: ‖∂L/∂h_t‖ for every step t on the long-memory tasks (the lecture's vanishing-gradient
  argument, measured exactly in float64), with the vanilla cell's bound; the CLI's `gradients`.
- `compare`: several cells trained on one task with the same budget and seed, as a table, a CSV and
  their learning curves; the CLI's `compare`.
- `text_features`, `unit_traces`, `visualize_page`: what each unit of a character model tracks over
  a text (states, gates, surprise, next characters; units ranked by correlation with simple text
  features), written as one self-contained HTML page; the CLI's `visualize`.
- `attention_plot`: where a translate run's decoder attends — its attention weights over the source
  tokens for each translation, drawn as a labelled matrix; `translate --attention-plot` and
  `evaluate --attention-plots`.

Example:

```python
from kerasrnn.analysis.compare import compare_cells

print(compare_cells("copy", ("vanilla", "urnn"), steps=300, out_dir=Path("runs/cmp")).table())
```
"""
