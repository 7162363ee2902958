"""groundfog's benchmarks: each compares against a peer or the physical limit in the same run."""
