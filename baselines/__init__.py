"""The baseline recipe (convert, pretrain, distill, finetune): not built yet."""
