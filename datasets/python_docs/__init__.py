"""python_docs: the Python language reference shipped inside CPython (`pydoc_data.topics`)."""
