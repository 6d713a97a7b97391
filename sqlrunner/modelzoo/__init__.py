"""ResNet-50 SavedModels: the real download, the untrained stand-in and the tiny test model.

signature  the serving signature they all share, and a TensorFlow check for it
fetch      `make model`: download from Kaggle Models, extract safely, verify, record provenance
standin    the ResNet-50 architecture with deterministic weights, cached by recipe
tiny       a one-layer model with the same signature, for fast tests
marker     STANDIN.json, which marks the generated ones untrained
choose     which of them the demo runs
"""
