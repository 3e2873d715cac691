"""The baseline recipe (convert → pretrain → distill → finetune; see ``baselines/recipe.py``)
and the study that runs it for every architecture in both orders, with its page
(``baselines/study.py``, ``baselines/report/``). The attention the recipe converts to (LSG,
masked Nyströmformer) lives in ``benchmark.architectures``, beside the loader that needs it."""
