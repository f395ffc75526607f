"""Every data loader: the corpora, labelled texts and sentence pairs users bring or the project
builds, and the glue to the tensorflow-datasets builders (the repository's `datasets/` folder,
`kerasrnn/datasets/` once installed).

Loaders return plain Python (strings, lists) split into train / validation / test; turning text into
ids is the tasks' business. Bad input raises `kerasrnn.errors.UserInputError` with one line.
"""
