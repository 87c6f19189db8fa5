"""The notes of the demo data: a core writer and one module per kind of note.

:mod:`.writer` binds the template slots to one patient and admission; the other modules render
physician, nursing, radiology, discharge, ECG/echo and allied-health notes with it, and
:mod:`.schedule` decides which notes an admission gets and when.
"""
