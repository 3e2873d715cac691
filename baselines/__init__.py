"""The baseline recipe (convert → pretrain → distill → finetune) and the attention modules
the suite adds to transformers (LSG, masked Nyströmformer); see ``baselines/recipe.py``."""
