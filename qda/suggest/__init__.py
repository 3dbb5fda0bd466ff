"""Suggestions that help code and refine the codebook: local, explainable, reproducible.

`embed.py` turns text into vectors (cached in the project); `codefit.py` ranks the
codebook's codes for segments not yet coded, with the nearest coded examples as the
reason. The researcher accepts or rejects each suggestion; a rejected one is not
shown again.
"""
