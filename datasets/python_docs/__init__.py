"""python_docs: the Python language reference topics shipped inside CPython (`pydoc_data.topics`)."""
