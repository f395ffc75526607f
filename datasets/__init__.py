"""TensorFlow Datasets builders kept with kerasrnn, one folder per dataset in the `tfds new` layout.

Do not import this package as `datasets`: that name is Hugging Face's package. A wheel of kerasrnn
carries this folder as `kerasrnn/datasets/` (pyproject.toml maps it), and
`kerasrnn.data.tfds_builders` loads each builder module from its file path, in a checkout and
installed alike.
"""
