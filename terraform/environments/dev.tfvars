# dev: 3x single-H100 droplets, Llama 3.1 8B Instruct, 1 prefill : 1 decode, one GPU free.
env            = "dev"
gpu_node_size  = "gpu-h100x1-80gb"
gpu_node_count = 3
nfs_size_gib   = 100
# KAI scheduler (with Grove): true = gang scheduling on the gtc-demo queue; false = default scheduler.
kai_scheduler_enabled = true
