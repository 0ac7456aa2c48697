# prod: one 8xH200 droplet, Llama 3.1 70B Instruct (FP8), 2 prefill : 3 decode, 3 GPUs free.
env            = "prod"
gpu_node_size  = "gpu-h200x8-1128gb-contracted"
gpu_node_count = 1
nfs_size_gib   = 250
# KAI scheduler (with Grove): true = gang scheduling on the gtc-demo queue; false = default scheduler.
kai_scheduler_enabled = true
