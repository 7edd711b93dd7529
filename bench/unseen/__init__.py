"""The unseen-source drum validation: sound sources disjoint from drumnet's training.

``sources`` builds the kits (an OPL3 FM SoundFont, the Sonivox EAS wavetable, a
physically modelled engine), ``chains`` the production chains, ``clips`` the annotated
renders, ``leak`` the check that no validation one-shot copies a training one-shot.
Used by ``bench/quality.py --unseen`` and ``bench/oneshots.py``; nothing in
``heihachi_train`` imports it.
"""
