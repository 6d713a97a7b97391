"""`python -m bench`: the local engine against the ceiling and against plain TensorFlow."""
