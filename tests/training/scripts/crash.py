import os
print("loading data", flush=True)
raise ValueError("the label column 'target' is missing from train.csv")
