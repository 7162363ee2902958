import time
print("sleeping", flush=True)
for i in range(600):
    print(f"tick {i}", flush=True)
    time.sleep(0.5)
