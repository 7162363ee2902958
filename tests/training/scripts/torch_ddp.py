"""torch.distributed on CPU (gloo), as a SageMaker PyTorch script on several instances."""
import json
import os

import torch
import torch.distributed as dist

if __name__ == "__main__":
    hosts = json.loads(os.environ["SM_HOSTS"])
    rank = hosts.index(os.environ["SM_CURRENT_HOST"])
    dist.init_process_group(backend="gloo", rank=rank, world_size=len(hosts))
    value = torch.tensor([float(rank + 1)])
    dist.all_reduce(value)
    print(f"host={os.environ['SM_CURRENT_HOST']} rank={rank} world={dist.get_world_size()} allreduce={value.item()}", flush=True)
    if rank == 0:
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "sum.txt"), "w") as f:
            f.write(str(value.item()))
    dist.destroy_process_group()
