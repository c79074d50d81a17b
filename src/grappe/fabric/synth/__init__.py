"""Synthetic SIRENE establishment files: a realistic French productive fabric with planted clusters.

The file has the layout of INSEE's ``StockEtablissement`` (the current column set, in INSEE's
order, every value a string, empty where not simulated), as ``,``-separated UTF-8 CSV with a
header or as Parquet, chosen by the extension of the output path. It is written chunk by
chunk (``CHUNK_ROWS`` rows, vectorised NumPy and Arrow per chunk), so 15 million rows fit in
a bounded memory. The chunk size is a constant and every chunk draws from its own generator
seeded by ``(seed, chunk index)``: the same arguments give the same bytes.

What is simulated, and on which assumptions
-------------------------------------------
- **Identifiers.** Legal units (SIREN) are a bijection of a running firm number onto
  ``360000000..999999999`` (so never La Poste's ``356000000``, the one SIRET whose key
  follows another rule), with a valid Luhn key. Establishments number 1..k inside their
  firm after a random offset; the NIC is that 4-digit number plus the key that makes the
  SIRET Luhn-valid, which is how INSEE builds NICs. About 6 % of firms have several
  establishments (1 + a Zipf(2.2) count capped at 200): a fifth of the rows.
- **Communes.** Real current communes (``grappe.refdata.territories``) drawn in proportion
  to their population (plus 30 inhabitants, so that no commune is impossible); the
  collectivités d'outre-mer outside SIRENE (TAAF, Wallis-et-Futuna, Polynésie,
  Nouvelle-Calédonie, Clipperton) are left out. Paris, Lyon and Marseille get their
  arrondissement codes (75101-75120, 69381-69389, 13201-13216, in equal shares) as SIRENE
  does. ``region`` restricts the draw to one région.
- **Activities.** The 732 NAF rév. 2 sous-classes. Section shares (``SECTION_SHARES``) are
  rounded orders of magnitude of INSEE's published breakdown of the active establishments
  of the Sirene stock by section (commerce, real estate, specialised and support services,
  construction and health dominate; the SCI of 68.20B and the photovoltaic producers of
  35.11Z weigh heavily). A few large or telling sous-classes get a fixed share
  (``FIXED_SHARES``, same kind of source and rounding); inside each section the rest is
  spread over the remaining sous-classes by a deterministic skewed law: the sous-classes
  are ranked by a BLAKE2b hash of their code and weighted ``1 / (rank + 1) ** 0.6``. These
  are assumptions that give a plausible shape, not published figures.
  Secondary establishments keep their firm's activity 70 % of the time.
- **Size bands.** ``BAND_SHARES`` gives the shares of ``trancheEffectifsEtablissement``
  over all establishments (most are ``NN``, ``00`` or ``01``; very few above 250); each
  section tilts them by ``(1 + central headcount) ** SECTION_TILT`` (industry most), the
  planted clusters by ``PLANTED_TILT``. 85 % of closed establishments, and all those
  closed before 2001, carry ``NN``.
- **Dates.** Creations from 1950 to the stock date (2025-01-01) with a 3.5 % yearly growth;
  lifetimes from a piecewise constant hazard (10 % a year over the first five years, which
  gives INSEE's order of 60 % five-year survival, then 4.5 %). An establishment whose
  lifetime ends before the stock date is closed (``etatAdministratifEtablissement`` F)
  with ``dateDebut`` = the closure date; 30 % of active ones have a later period start.
- **Places.** Lambert-93 coordinates scattered around the commune centroid with a standard
  deviation growing with the population (400 m to 5 km); none overseas (SIRENE gives local
  projections there). Street numbers, street types and names from short lists; postal
  codes and BAN identifiers are not simulated (left empty).
- **Names.** 30 % of establishments have an ``enseigne1Etablissement`` made of a word of
  their section (or of their cluster's trade) and a common French surname.
- **Planted clusters** (``PLANTED_CLUSTERS``): extra establishments of one sous-class in
  real places, spread evenly through the file, always active, with a strong size tilt.
  Their number is ``strength * min(max(minimum, per_million * rows / 1e6), rows / 200)``:
  at 15 M rows and strength 1, hundreds of establishments as in reality (the Arve valley
  holds most French décolletage); at 200 k rows still a dozen or more where the
  background expects well under one.
- **Defects** (``invalid_rate``): that share of the rows (rounded per chunk, never a planted
  row) gets exactly one realistic defect among ``DEFECTS``; ``SynthReport.invalid_rows``
  counts them so tests can check that an import quarantines exactly those rows.
"""

from grappe.fabric.synth.laws import (
    CHUNK_ROWS,
    DEFECTS,
    FIXED_SHARES,
    MAX_ROWS,
    PLANTED_CLUSTERS,
    SECTION_SHARES,
    SIRENE_COLUMNS,
    ClusterSite,
    PlantedCluster,
    naf_shares,
)
from grappe.fabric.synth.rows import luhn_valid
from grappe.fabric.synth.writer import SynthReport, write_synthetic

__all__ = [
    "CHUNK_ROWS",
    "DEFECTS",
    "FIXED_SHARES",
    "MAX_ROWS",
    "PLANTED_CLUSTERS",
    "SECTION_SHARES",
    "SIRENE_COLUMNS",
    "ClusterSite",
    "PlantedCluster",
    "SynthReport",
    "luhn_valid",
    "naf_shares",
    "write_synthetic",
]
