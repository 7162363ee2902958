"""A PyTorch script for managed spot training: checkpoints every epoch, resumes from the latest."""
import argparse
import os
import signal
import sys
import time

import torch

CHECKPOINTS = "/opt/ml/checkpoints"

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--epoch-seconds", type=float, default=0.3)
    parser.add_argument("--checkpoint-dir", default=CHECKPOINTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(7)
    x = torch.randn(256, 8)
    y = x @ torch.randn(8, 1) + 0.1 * torch.randn(256, 1)
    model = torch.nn.Linear(8, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    start = 0
    path = os.path.join(args.checkpoint_dir, "checkpoint.pt")
    if os.path.exists(path):
        state = torch.load(path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = state["epoch"] + 1
        print(f"Resuming from checkpoint: epoch {start}", flush=True)
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    # The spot notice (SIGTERM): finish the epoch at hand, checkpoint it, then leave.
    notice = []
    signal.signal(signal.SIGTERM, lambda *_: notice.append(True))
    for epoch in range(start, args.epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        time.sleep(args.epoch_seconds)
        print(f"epoch={epoch} loss={loss.item():.6f}", flush=True)
        tmp = path + ".tmp"
        torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp)
        os.replace(tmp, path)
        if notice:
            print(f"interrupted after epoch {epoch}", flush=True)
            sys.exit(0)
    final = torch.nn.functional.mse_loss(model(x), y).item()
    print(f"final_loss={final:.6f}", flush=True)
    torch.save(model.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pt"))
