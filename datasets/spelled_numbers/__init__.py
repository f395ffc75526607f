"""spelled_numbers: 0…19,999 spelled out by num2words in en, fr, de, es, it."""
