"""The ranker LAM: a pretrained sentence encoder that chooses among the actions the
environment offers instead of writing one token by token (MindAct's stage 1, Mind2Web 2023).
The CPU path of lamforge; the generative LAM stays the GPU path."""
