"""TensorFlow Datasets builders kept with kerasrnn, one folder per dataset in the `tfds new` layout.

Do not import this package by name: `datasets` would shadow Hugging Face's package of the same name.
`kerasrnn.data.corpus` loads each builder module from its file path instead.
"""
