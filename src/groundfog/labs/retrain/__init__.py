"""The retrain-on-upload scenario's step scripts (preprocess, train, evaluate), run as real jobs."""
