"""A learning curve per epoch whose quality depends on the learning rate, as a tuner sees it."""
import argparse
import math
import time

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--epoch-seconds", type=float, default=0.05)
    args = parser.parse_args()
    # Gradient descent on x**2 from x=10: too small a rate crawls, too large diverges.
    x = 10.0
    for epoch in range(args.epochs):
        x -= args.learning_rate * 2 * x
        loss = min(x * x, 1e6)
        print(f"epoch={epoch} validation-loss={loss:.6g}", flush=True)
        time.sleep(args.epoch_seconds)
