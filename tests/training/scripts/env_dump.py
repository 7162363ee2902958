import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK")}
out = {"env": env, "argv": sys.argv[1:], "cwd": os.getcwd(),
       "config": {n: json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], n))) for n in os.listdir(os.environ["SM_INPUT_CONFIG_DIR"])},
       "train_files": sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"]))}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "env.json"), "w") as f:
    json.dump(out, f)
