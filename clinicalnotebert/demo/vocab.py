"""Word lists, templates and reference tables of the synthetic demo data (all written here).

Templates use ``{slot}`` for a plain fill and ``{slot|type}`` for a fill that is also an i2b2-style
entity (``problem``, ``treatment``, ``test``); the NER set is rendered from the same templates as
the notes, so its spans are exactly what the generator inserted. A slot resolves to a string or,
for a tuple, to one element drawn at random. The chart/lab item and variable tables at the end
define the hourly signals and the MIMIC-Extract resource files.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# Primary diagnoses. Each drives the DRG, the care unit, the note vocabulary and the signals.


@dataclass(frozen=True)
class Diagnosis:
    key: str
    weight: float  # share of adult admissions
    severity_shift: float  # added to the patient's latent severity
    los_shift: float  # added to log ICU length of stay
    vent_shift: float  # added to the logit of intubation
    pressor_shift: float  # added to the logit of vasopressors
    unit: str
    service: str
    admit_dx: tuple[str, ...]  # ADMISSIONS.DIAGNOSIS free text
    names: tuple[str, ...]  # ways clinicians name it (problem spans)
    complaints: tuple[str, ...]  # chief complaints (problem spans)
    findings: tuple[str, ...]  # supporting problems (problem spans)
    tests: tuple[str, ...]  # key work-up (test spans)
    treatments: tuple[str, ...]  # key therapy (treatment spans)
    study: str  # first imaging study (radiology DESCRIPTION)
    impressions: tuple[str, ...]  # radiology impression sentences for this diagnosis
    drg_major: tuple[int, str]  # MS-DRG when severe (with major complication)
    drg_minor: tuple[int, str]  # MS-DRG otherwise (same code when the DRG has no split)
    signal_shift: tuple[tuple[str, float], ...] = ()  # variable -> shift of the stay mean


DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis(
        key="sepsis",
        weight=0.16,
        severity_shift=0.35,
        los_shift=0.10,
        vent_shift=0.0,
        pressor_shift=1.2,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("SEPSIS", "UROSEPSIS", "FEVER;HYPOTENSION", "SEPTIC SHOCK"),
        names=(
            "sepsis",
            "septic shock",
            "severe sepsis",
            "urosepsis",
            "sepsis from a urinary source",
            "gram negative bacteremia",
            "infection with hypotension",
        ),
        complaints=("fever and rigors", "confusion and fever", "low blood pressure", "chills"),
        findings=("leukocytosis", "fever", "hypotension", "pyuria", "elevated lactate"),
        tests=("blood cultures", "urine culture", "a urinalysis", "serial lactates"),
        treatments=("vancomycin", "piperacillin-tazobactam", "cefepime", "fluid resuscitation"),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "No focal consolidation to explain the fever.",
            "Lungs are clear without a source of infection identified.",
        ),
        drg_major=(871, "SEPSIS OR SEPTICEMIA WITHOUT LONG VENTILATION WITH MAJOR COMPLICATION"),
        drg_minor=(872, "SEPSIS OR SEPTICEMIA WITHOUT LONG VENTILATION NO MAJOR COMPLICATION"),
        signal_shift=(("temperature", 1.1), ("white blood cell count", 6.0), ("heart rate", 8.0)),
    ),
    Diagnosis(
        key="pneumonia",
        weight=0.12,
        severity_shift=0.10,
        los_shift=0.05,
        vent_shift=0.9,
        pressor_shift=0.0,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("PNEUMONIA", "HYPOXIA", "SHORTNESS OF BREATH", "PNEUMONIA;TELEMETRY"),
        names=(
            "pneumonia",
            "community acquired pneumonia",
            "right lower lobe pneumonia",
            "multifocal pneumonia",
            "aspiration pneumonia",
            "PNA",
            "hypoxemic respiratory failure from pneumonia",
        ),
        complaints=("productive cough", "shortness of breath", "hypoxia", "pleuritic chest pain"),
        findings=("hypoxemia", "a lobar infiltrate", "rhonchi", "purulent sputum", "tachypnea"),
        tests=("a sputum culture", "a chest x-ray", "an arterial blood gas", "legionella antigen"),
        treatments=("ceftriaxone", "azithromycin", "levofloxacin", "supplemental oxygen"),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "Dense right lower lobe consolidation concerning for pneumonia.",
            "Patchy bilateral opacities compatible with multifocal infection.",
            "New left basilar airspace disease, likely pneumonia in this clinical setting.",
        ),
        drg_major=(193, "SIMPLE PNEUMONIA AND PLEURISY WITH MAJOR COMPLICATION"),
        drg_minor=(194, "SIMPLE PNEUMONIA AND PLEURISY WITH COMPLICATION"),
        signal_shift=(("oxygen saturation", -2.5), ("respiratory rate", 4.0), ("temperature", 0.7)),
    ),
    Diagnosis(
        key="mi",
        weight=0.10,
        severity_shift=0.0,
        los_shift=-0.15,
        vent_shift=-0.5,
        pressor_shift=0.3,
        unit="CCU",
        service="CARDIOLOGY",
        admit_dx=(
            "CHEST PAIN",
            "ST ELEVATION MYOCARDIAL INFARCTION",
            "NSTEMI",
            "CORONARY ARTERY DISEASE",
        ),
        names=(
            "acute myocardial infarction",
            "STEMI",
            "NSTEMI",
            "an inferior ST elevation MI",
            "acute coronary syndrome",
            "an anterior wall infarction",
        ),
        complaints=("crushing chest pain", "substernal chest pressure", "jaw pain and diaphoresis"),
        findings=("ST elevations", "elevated troponin", "an inferior wall motion abnormality"),
        tests=("serial troponins", "a cardiac catheterization", "an ECG", "an echocardiogram"),
        treatments=(
            "aspirin",
            "a heparin drip",
            "clopidogrel",
            "a drug eluting stent",
            "atorvastatin",
        ),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "Mild vascular congestion without frank edema.",
            "Heart size is normal and the lungs are clear.",
        ),
        drg_major=(280, "ACUTE MYOCARDIAL INFARCTION WITH MAJOR COMPLICATION"),
        drg_minor=(280, "ACUTE MYOCARDIAL INFARCTION WITH MAJOR COMPLICATION"),
        signal_shift=(("heart rate", -4.0),),
    ),
    Diagnosis(
        key="chf",
        weight=0.09,
        severity_shift=0.0,
        los_shift=0.05,
        vent_shift=0.0,
        pressor_shift=0.2,
        unit="CCU",
        service="CARDIOLOGY",
        admit_dx=("CONGESTIVE HEART FAILURE", "CHF EXACERBATION", "DYSPNEA"),
        names=(
            "acute on chronic systolic heart failure",
            "a CHF exacerbation",
            "decompensated heart failure",
            "volume overload from heart failure",
            "cardiogenic pulmonary edema",
        ),
        complaints=("worsening dyspnea on exertion", "orthopnea", "leg swelling", "weight gain"),
        findings=("bilateral lower extremity edema", "crackles at both bases", "an elevated BNP"),
        tests=("a BNP", "a transthoracic echo", "daily weights", "a chest x-ray"),
        treatments=("IV furosemide", "a lasix drip", "nitroglycerin", "BiPAP", "metolazone"),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "Moderate pulmonary edema with small bilateral effusions.",
            "Cardiomegaly with interstitial edema, consistent with volume overload.",
        ),
        drg_major=(291, "HEART FAILURE AND SHOCK WITH MAJOR COMPLICATION"),
        drg_minor=(291, "HEART FAILURE AND SHOCK WITH MAJOR COMPLICATION"),
        signal_shift=(("oxygen saturation", -1.5), ("creatinine", 0.4)),
    ),
    Diagnosis(
        key="gi_bleed",
        weight=0.09,
        severity_shift=0.0,
        los_shift=-0.10,
        vent_shift=-0.3,
        pressor_shift=0.2,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("GASTROINTESTINAL BLEED", "UPPER GI BLEED", "MELENA", "HEMATEMESIS"),
        names=(
            "an upper GI bleed",
            "a bleeding duodenal ulcer",
            "variceal hemorrhage",
            "acute blood loss anemia from GI bleeding",
            "gastrointestinal hemorrhage",
        ),
        complaints=("black tarry stools", "coffee ground emesis", "bright red blood per rectum"),
        findings=(
            "melena",
            "a hematocrit drop",
            "orthostatic hypotension",
            "guaiac positive stool",
        ),
        tests=("an EGD", "serial hematocrits", "a type and cross", "coagulation studies"),
        treatments=("a pantoprazole drip", "packed red blood cells", "octreotide", "band ligation"),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "No acute cardiopulmonary process.",
            "Lungs are clear. No free air under the diaphragm.",
        ),
        drg_major=(377, "GASTROINTESTINAL HEMORRHAGE WITH MAJOR COMPLICATION"),
        drg_minor=(377, "GASTROINTESTINAL HEMORRHAGE WITH MAJOR COMPLICATION"),
        signal_shift=(("hemoglobin", -3.0), ("heart rate", 6.0)),
    ),
    Diagnosis(
        key="stroke",
        weight=0.08,
        severity_shift=0.25,
        los_shift=0.15,
        vent_shift=0.6,
        pressor_shift=-0.6,
        unit="SICU",
        service="NEUROLOGY",
        admit_dx=(
            "STROKE",
            "CEREBROVASCULAR ACCIDENT",
            "INTRACRANIAL HEMORRHAGE",
            "LEFT SIDED WEAKNESS",
        ),
        names=(
            "an acute ischemic stroke",
            "a left MCA infarct",
            "an intraparenchymal hemorrhage",
            "a CVA",
            "a right hemispheric stroke",
        ),
        complaints=("sudden left sided weakness", "slurred speech", "facial droop", "aphasia"),
        findings=("right sided hemiparesis", "a left gaze deviation", "dysarthria", "neglect"),
        tests=("a CT head", "an MRI of the brain", "a CT angiogram", "carotid ultrasound"),
        treatments=("tPA", "nicardipine", "a thrombectomy", "aspirin"),
        study="CT HEAD W/O CONTRAST",
        impressions=(
            "Acute infarct in the left middle cerebral artery territory.",
            "Intraparenchymal hemorrhage in the right basal ganglia with surrounding edema.",
            "Hypodensity in the right frontal lobe concerning for evolving infarction.",
        ),
        drg_major=(64, "INTRACRANIAL HEMORRHAGE OR CEREBRAL INFARCTION WITH MAJOR COMPLICATION"),
        drg_minor=(64, "INTRACRANIAL HEMORRHAGE OR CEREBRAL INFARCTION WITH MAJOR COMPLICATION"),
        signal_shift=(("glascow coma scale total", -3.0), ("systolic blood pressure", 18.0)),
    ),
    Diagnosis(
        key="copd",
        weight=0.07,
        severity_shift=-0.15,
        los_shift=0.0,
        vent_shift=0.5,
        pressor_shift=-0.8,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("COPD EXACERBATION", "SHORTNESS OF BREATH", "RESPIRATORY DISTRESS"),
        names=(
            "a COPD exacerbation",
            "hypercarbic respiratory failure",
            "acute exacerbation of emphysema",
            "bronchospasm from COPD",
        ),
        complaints=("wheezing", "increased sputum production", "dyspnea at rest"),
        findings=(
            "diffuse expiratory wheezes",
            "hypercarbia",
            "prolonged expiration",
            "accessory muscle use",
        ),
        tests=("an arterial blood gas", "peak flows", "a chest x-ray", "a viral panel"),
        treatments=(
            "nebulized albuterol",
            "ipratropium nebs",
            "methylprednisolone",
            "noninvasive ventilation",
        ),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "Hyperinflated lungs without focal consolidation.",
            "Emphysematous changes. No pneumothorax.",
        ),
        drg_major=(190, "CHRONIC OBSTRUCTIVE PULMONARY DISEASE WITH MAJOR COMPLICATION"),
        drg_minor=(190, "CHRONIC OBSTRUCTIVE PULMONARY DISEASE WITH MAJOR COMPLICATION"),
        signal_shift=(("oxygen saturation", -3.0), ("respiratory rate", 5.0)),
    ),
    Diagnosis(
        key="dka",
        weight=0.06,
        severity_shift=-0.45,
        los_shift=-0.25,
        vent_shift=-0.8,
        pressor_shift=-0.8,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("DIABETIC KETOACIDOSIS", "HYPERGLYCEMIA", "DKA"),
        names=(
            "diabetic ketoacidosis",
            "DKA",
            "an anion gap acidosis from DKA",
            "severe hyperglycemia with ketosis",
        ),
        complaints=("nausea and vomiting", "polyuria", "abdominal pain", "lethargy"),
        findings=("an anion gap of 24", "ketonuria", "hyperglycemia", "dehydration"),
        tests=("serum ketones", "hourly fingersticks", "a basic metabolic panel every four hours"),
        treatments=(
            "an insulin drip",
            "normal saline boluses",
            "potassium repletion",
            "insulin glargine",
        ),
        study="CHEST (PORTABLE AP)",
        impressions=("No acute cardiopulmonary abnormality.",),
        drg_major=(637, "DIABETES WITH MAJOR COMPLICATION"),
        drg_minor=(637, "DIABETES WITH MAJOR COMPLICATION"),
        signal_shift=(("glucose", 260.0), ("respiratory rate", 5.0)),
    ),
    Diagnosis(
        key="aki",
        weight=0.06,
        severity_shift=0.05,
        los_shift=0.0,
        vent_shift=-0.5,
        pressor_shift=0.0,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("ACUTE RENAL FAILURE", "HYPERKALEMIA", "RENAL FAILURE"),
        names=(
            "acute kidney injury",
            "acute renal failure",
            "AKI on CKD",
            "oliguric renal failure",
            "acute tubular necrosis",
        ),
        complaints=("decreased urine output", "fatigue", "confusion"),
        findings=("hyperkalemia", "oliguria", "a rising creatinine", "metabolic acidosis"),
        tests=(
            "a renal ultrasound",
            "urine electrolytes",
            "a urine sediment",
            "a basic metabolic panel",
        ),
        treatments=("hemodialysis", "CVVH", "sodium bicarbonate", "calcium gluconate"),
        study="RENAL U.S.",
        impressions=(
            "No hydronephrosis. Echogenic kidneys consistent with medical renal disease.",
            "Normal sized kidneys without obstruction.",
        ),
        drg_major=(682, "RENAL FAILURE WITH MAJOR COMPLICATION"),
        drg_minor=(682, "RENAL FAILURE WITH MAJOR COMPLICATION"),
        signal_shift=(("creatinine", 2.5),),
    ),
    Diagnosis(
        key="cabg",
        weight=0.08,
        severity_shift=-0.55,
        los_shift=-0.15,
        vent_shift=1.5,
        pressor_shift=0.6,
        unit="CSRU",
        service="CARDIOTHORACIC",
        admit_dx=("CORONARY ARTERY DISEASE\\CORONARY ARTERY BYPASS GRAFT /SDA", "AORTIC STENOSIS"),
        names=(
            "coronary artery disease status post CABG",
            "three vessel coronary disease",
            "multivessel CAD requiring bypass",
            "postoperative state after coronary bypass",
        ),
        complaints=("exertional angina", "chest tightness with exertion"),
        findings=("chest tube output", "postoperative anemia", "atrial fibrillation"),
        tests=("a postoperative chest x-ray", "serial hematocrits", "a cardiac catheterization"),
        treatments=(
            "a CABG x3",
            "coronary artery bypass grafting",
            "a neosynephrine drip",
            "epicardial pacing",
        ),
        study="CHEST (PORTABLE AP)",
        impressions=(
            "Status post median sternotomy with expected postoperative changes.",
            "Left chest tube in place. No pneumothorax. Mild left basilar atelectasis.",
        ),
        drg_major=(236, "CORONARY BYPASS WITHOUT CARDIAC CATHETERIZATION"),
        drg_minor=(236, "CORONARY BYPASS WITHOUT CARDIAC CATHETERIZATION"),
        signal_shift=(("temperature", -0.6), ("hemoglobin", -2.0)),
    ),
    Diagnosis(
        key="sdh",
        weight=0.05,
        severity_shift=0.20,
        los_shift=0.15,
        vent_shift=0.8,
        pressor_shift=-0.5,
        unit="TSICU",
        service="NEUROSURGERY",
        admit_dx=("SUBDURAL HEMATOMA", "S/P FALL", "HEAD BLEED"),
        names=(
            "a traumatic subdural hematoma",
            "an acute subdural hemorrhage",
            "a head bleed after a fall",
            "traumatic brain injury",
        ),
        complaints=("a fall with head strike", "headache after a fall", "found down"),
        findings=("midline shift", "a scalp laceration", "a depressed mental status"),
        tests=("a repeat CT head", "neuro checks every hour", "a cervical spine CT"),
        treatments=(
            "a craniotomy",
            "levetiracetam",
            "platelet transfusion",
            "reversal of anticoagulation",
        ),
        study="CT HEAD W/O CONTRAST",
        impressions=(
            "Acute left holohemispheric subdural hematoma with 6 mm of midline shift.",
            "Stable small right frontal subdural collection.",
        ),
        drg_major=(83, "TRAUMATIC STUPOR AND COMA WITH COMPLICATION"),
        drg_minor=(83, "TRAUMATIC STUPOR AND COMA WITH COMPLICATION"),
        signal_shift=(("glascow coma scale total", -3.5),),
    ),
    Diagnosis(
        key="overdose",
        weight=0.05,
        severity_shift=-0.35,
        los_shift=-0.35,
        vent_shift=0.7,
        pressor_shift=-0.3,
        unit="MICU",
        service="MEDICINE",
        admit_dx=("OVERDOSE", "ALTERED MENTAL STATUS", "INGESTION"),
        names=(
            "an intentional overdose",
            "a polysubstance ingestion",
            "opioid overdose",
            "toxic ingestion",
            "a benzodiazepine overdose",
        ),
        complaints=(
            "unresponsiveness",
            "altered mental status",
            "found down with empty pill bottles",
        ),
        findings=("pinpoint pupils", "respiratory depression", "somnolence"),
        tests=(
            "a serum tox screen",
            "a urine tox screen",
            "an acetaminophen level",
            "an EKG for QTc",
        ),
        treatments=("naloxone", "activated charcoal", "N-acetylcysteine", "a psychiatry consult"),
        study="CHEST (PORTABLE AP)",
        impressions=("Endotracheal tube in good position. Possible aspiration at the right base.",),
        drg_major=(917, "POISONING AND TOXIC EFFECTS OF DRUGS WITH MAJOR COMPLICATION"),
        drg_minor=(917, "POISONING AND TOXIC EFFECTS OF DRUGS WITH MAJOR COMPLICATION"),
        signal_shift=(("glascow coma scale total", -3.0), ("respiratory rate", -4.0)),
    ),
)

# Neonates (the few under-age patients): their own diagnosis, excluded by adult cohorts.
NEWBORN = Diagnosis(
    key="newborn",
    weight=0.0,
    severity_shift=-0.8,
    los_shift=0.3,
    vent_shift=-1.0,
    pressor_shift=-2.0,
    unit="NICU",
    service="NEWBORN",
    admit_dx=("NEWBORN",),
    names=("prematurity", "respiratory distress of prematurity", "a premature infant"),
    complaints=("grunting and retractions",),
    findings=("mild retractions", "hyperbilirubinemia", "apnea of prematurity"),
    tests=("a blood culture", "a bilirubin level", "a CBC"),
    treatments=("CPAP", "caffeine", "phototherapy", "ampicillin"),
    study="BABYGRAM (CHEST ONLY)",
    impressions=("Mild granular opacities consistent with surfactant deficiency.",),
    drg_major=(791, "PREMATURITY WITH MAJOR PROBLEMS"),
    drg_minor=(791, "PREMATURITY WITH MAJOR PROBLEMS"),
    signal_shift=(
        ("heart rate", 60.0),
        ("respiratory rate", 28.0),
        ("systolic blood pressure", -50.0),
    ),
)

# --------------------------------------------------------------------------------------------
# Slot pools shared by every template.

# History items that only fit one sex; the rest fit anyone.
MALE_ONLY_PMH = ("prostate cancer", "benign prostatic hypertrophy")
FEMALE_ONLY_PMH = ("breast cancer status post lumpectomy", "ovarian cancer in remission")

PMH = (
    "hypertension",
    "hyperlipidemia",
    "type 2 diabetes mellitus",
    "coronary artery disease",
    "atrial fibrillation",
    "chronic kidney disease stage III",
    "obstructive sleep apnea",
    "hypothyroidism",
    "depression",
    "GERD",
    "osteoarthritis",
    "a prior stroke",
    "peripheral vascular disease",
    "alcoholic cirrhosis",
    "alcohol abuse",
    "breast cancer status post lumpectomy",
    "prostate cancer",
    "iron deficiency anemia",
    "gout",
    "benign prostatic hypertrophy",
    "ovarian cancer in remission",
    "dementia",
    "asthma",
    "morbid obesity",
    "chronic low back pain",
)

HOME_MEDS = (
    ("metoprolol tartrate", "25 mg PO BID"),
    ("lisinopril", "10 mg PO daily"),
    ("atorvastatin", "40 mg PO qHS"),
    ("metformin", "500 mg PO BID"),
    ("aspirin", "81 mg PO daily"),
    ("furosemide", "40 mg PO daily"),
    ("levothyroxine", "75 mcg PO daily"),
    ("omeprazole", "20 mg PO daily"),
    ("amlodipine", "5 mg PO daily"),
    ("warfarin", "5 mg PO daily"),
    ("insulin glargine", "22 units SC qHS"),
    ("albuterol inhaler", "2 puffs q4h PRN"),
    ("tiotropium", "18 mcg inhaled daily"),
    ("sertraline", "50 mg PO daily"),
    ("gabapentin", "300 mg PO TID"),
    ("tamsulosin", "0.4 mg PO qHS"),
    ("allopurinol", "100 mg PO daily"),
    ("apixaban", "5 mg PO BID"),
    ("clopidogrel", "75 mg PO daily"),
    ("carvedilol", "6.25 mg PO BID"),
    ("docusate", "100 mg PO BID"),
    ("senna", "8.6 mg PO qHS PRN"),
    ("donepezil", "10 mg PO qHS"),
    ("simvastatin", "20 mg PO daily"),
)

DOSE_FORMS = ("Tablet", "Capsule", "Tablet, Delayed Release (E.C.)")


PRESSORS = (
    "levophed",
    "norepinephrine",
    "vasopressin",
    "neosynephrine",
    "phenylephrine",
    "dopamine",
)

SEDATIVES = ("propofol", "fentanyl", "versed", "precedex")


ALLERGIES = (
    "No Known Allergies / Adverse Drug Reactions",
    "Penicillins",
    "Sulfa (Sulfonamide Antibiotics)",
    "Codeine",
    "Iodine; Iodine Containing",
    "Patient recorded as having No Known Allergies to Drugs",
)

# Radiology findings for reports and the STS frames: key -> interchangeable noun phrases.
FINDINGS = {
    "effusion": ("pleural effusion", "effusion", "pleural fluid collection"),
    "atelectasis": ("atelectasis", "volume loss", "subsegmental collapse"),
    "consolidation": ("consolidation", "airspace opacity", "infiltrate"),
    "edema": ("pulmonary edema", "interstitial edema", "edema"),
    "pneumothorax": ("pneumothorax", "PTX", "pleural air collection"),
    "opacity": ("opacity", "opacification", "hazy density"),
    "nodule": ("pulmonary nodule", "nodular opacity", "lung nodule"),
    "fracture": ("rib fracture", "fractured rib", "rib break"),
}

# Adjectives only, so that every site fits every template.
SITES = {
    "left": ("left", "left-sided"),
    "right": ("right", "right-sided"),
    "bilateral": ("bilateral", "bilateral"),
    "basilar": ("basilar", "lower-zone"),
    "apical": ("apical", "upper-zone"),
}

# All start with a consonant, so "a {severity} ..." always reads right.
SEVERITIES = {
    "small": ("small", "mild", "minimal"),
    "moderate": ("moderate", "medium-sized", "moderate-sized"),
    "large": ("large", "big", "sizable"),
}

# Invasive procedures by primary diagnosis, for discharge summaries.
PROCEDURES = {
    "cabg": "Coronary artery bypass grafting x3",
    "sdh": "Left craniotomy for evacuation of subdural hematoma",
    "mi": "Cardiac catheterization with a drug eluting stent",
    "gi_bleed": "EGD with clipping of a bleeding ulcer",
    "aki": "Placement of a temporary dialysis catheter",
}

# --------------------------------------------------------------------------------------------
# Severity cues for the first day's notes. Tier 0 = stable, 3 = critically ill / dying.

CUES = (
    (
        "Patient is hemodynamically stable and {mental_good}.",
        "Vital signs have been stable overnight on {o2_low}.",
        "Tolerating a regular diet and ambulating with assistance.",
        "No acute events overnight.",
        "Pain well controlled with {prn_med|treatment}.",
        "Likely call out to the floor tomorrow if stable.",
        "Lactate {lactate_low} and trending down.",
        "Mentating well, following all commands, {mental_good}.",
        "Blood pressure stable, good urine output.",
        "Comfortable on {o2_low}, saturating well.",
        "Improving clinically, plan to advance diet.",
    ),
    (
        "Remains on {o2_mid} with saturations in the low 90s.",
        "Required one additional fluid bolus for soft pressures, responded well.",
        "Mildly tachycardic, improving with fluids.",
        "Lactate {lactate_mid}, will recheck in the morning.",
        "Intermittently confused overnight but redirectable.",
        "Urine output borderline, will monitor closely.",
        "Will continue current management and reassess.",
        "Low grade temps, cultures pending.",
        "Slowly improving but not yet ready for the floor.",
    ),
    (
        "Lactate elevated at {lactate_high}.",
        "Worsening {organ} function today.",
        "Requiring increasing oxygen, now on {o2_high}.",
        "Poorly responsive, only withdraws to painful stimuli.",
        "Low urine output, less than 20 cc/hr for several hours.",
        "Critically ill, high risk for further decompensation.",
        "Hypotensive overnight with SBP in the 70s to 80s.",
        "Condition tenuous, worsening acidosis on the last gas.",
        "Remains very sick, no improvement since admission.",
    ),
    (
        "Lactate {lactate_critical} and rising despite aggressive resuscitation.",
        "Family meeting held to discuss goals of care given poor prognosis.",
        "Anuric, with refractory metabolic acidosis.",
        "Unresponsive off sedation, pupils sluggish.",
        "Ongoing shock with multiorgan failure.",
        "Prognosis felt to be very poor; family aware.",
        "Worsening hypoxemia despite maximal oxygen support.",
        "Discussed transition to comfort measures with family, they wish to continue for now.",
        "Rapidly deteriorating, multiple organ systems failing.",
    ),
)

# Cues tied to the stay's flags, so the text agrees with the signals and with itself.
FLAG_CUES = {
    "intubated": (
        "Remains intubated and sedated on {sedative|treatment}.",
        "Intubated in the ED for {intubation_reason|problem}.",
        "On the ventilator, AC mode, sedated with {sedative|treatment}.",
        "ETT in place, tolerating the vent, {sedative|treatment} for comfort.",
    ),
    "pressors": (
        "Started on {pressor|treatment} for persistent hypotension despite fluids.",
        "MAP goal > 65, titrating {pressor|treatment}.",
        "Remains on {pressor|treatment}, unable to wean.",
        "Central line placed for {pressor|treatment} and frequent blood draws.",
    ),
    "dnr": (
        "Code status: DNR/DNI.",
        "Patient is DNR/DNI per her prior wishes.",
        "DNR, but ok for pressors per family.",
    ),
    "full_code": (
        "Code status: full code.",
        "Full code, confirmed with the patient.",
        "Full code per discussion with family.",
    ),
}

# Only ever written for a patient who will die: not certain, but a strong early hint.
TERMINAL_CUES = (
    "Family wishes to focus on comfort; palliative care consulted.",
    "Made CMO this evening after family meeting.",
    "Goals of care discussed at length; patient now DNR.",
    "Extremely poor prognosis communicated to family.",
    "Anticipate death during this admission; chaplain called.",
)

# Slot values that go with the tiers above.
TIER_SLOTS = {
    "mental_good": ("alert and oriented x3", "A&O x3", "awake and appropriate", "conversant"),
    "prn_med": ("acetaminophen", "oxycodone", "tylenol", "morphine"),
    "o2_low": ("room air", "2L nasal cannula", "RA"),
    "o2_mid": ("4L nasal cannula", "a 40% face tent", "high flow nasal cannula at 6L"),
    "o2_high": ("a non-rebreather", "FiO2 80%", "FiO2 of 70% on the ventilator"),
    "organ": ("renal", "liver", "respiratory", "cardiac"),
    "lactate_low": ("1.1", "1.4", "0.9", "1.6"),
    "lactate_mid": ("2.4", "2.8", "3.1", "2.2"),
    "lactate_high": ("4.6", "5.2", "6.1", "4.9"),
    "lactate_critical": ("8.7", "11.2", "9.4", "13.0"),
    "pressor": PRESSORS,
    "sedative": SEDATIVES,
    "intubation_reason": (
        "airway protection",
        "hypoxemic respiratory failure",
        "hypercarbic respiratory failure",
        "altered mental status",
    ),
}

# --------------------------------------------------------------------------------------------
# Sentence templates by purpose. ``who`` is e.g. "72 year old woman"; ``dx`` a name of the
# primary diagnosis drawn per use; ``pmh`` a history item; ``complaint``, ``finding``, ``test``
# and ``treatment`` come from the diagnosis.

HPI_OPENINGS = (
    "{who} with a history of {pmh|problem} and {pmh|problem} who presents with {complaint|problem}.",
    "{who} with {pmh|problem}, {pmh|problem} and {pmh|problem}, admitted with {dx|problem}.",
    "{who} with {pmh|problem} transferred from an outside hospital with {dx|problem}.",
)

HPI_SENTENCES = (
    "Patient was in her usual state of health until {days} days ago when she developed {complaint|problem}.",
    "Patient reports {complaint|problem} for the past {days} days, worse today.",
    "In the ED, initial vitals were T {temp_f} HR {hr} BP {sbp}/{dbp} RR {rr} O2 sat {spo2}% on {o2_any}.",
    "Labs notable for WBC {wbc}, creatinine {creat} and lactate {lactate}.",
    "{test|test} showed {finding|problem}.",
    "{test|test} was notable for {finding|problem}.",
    "She was given {treatment|treatment} and {treatment|treatment} in the ED.",
    "Received {treatment|treatment} prior to transfer to the unit.",
    "The ED course was notable for {finding|problem} requiring {treatment|treatment}.",
    "Denies {neg_symptom|problem}, {neg_symptom|problem} or {neg_symptom|problem}.",
    "Family reports she has been more tired than usual with poor oral intake.",
    "Admitted to the {unit} for further management of {dx|problem}.",
    "Concern was for {dx|problem}, and {test|test} was sent.",
    "On arrival to the floor she was {arrival_state}.",
)

NEG_SYMPTOMS = (
    "chest pain",
    "palpitations",
    "abdominal pain",
    "headache",
    "dysuria",
    "diarrhea",
    "recent travel",
    "sick contacts",
    "melena",
    "hematuria",
    "focal weakness",
    "cough",
)

ARRIVAL_STATES = (
    "comfortable and conversant",
    "somnolent but arousable",
    "tachypneic and using accessory muscles",
    "mildly uncomfortable",
    "intubated and sedated",
)

EXAM_LINES = (
    "General: {general}",
    "HEENT: NCAT, PERRL, EOMI, dry mucous membranes",
    "Neck: supple, JVP not elevated",
    "CV: {cv_exam}",
    "Lungs: {lung_exam}",
    "Abdomen: soft, non-tender, non-distended, normoactive bowel sounds",
    "Ext: {ext_exam}",
    "Neuro: {neuro_exam}",
    "Skin: warm and dry, no rashes",
)

EXAM_SLOTS = {
    "general": (
        "NAD, resting comfortably",
        "ill appearing, diaphoretic",
        "intubated, sedated",
        "elderly woman in mild distress",
    ),
    "cv_exam": (
        "RRR, no m/r/g",
        "tachycardic, regular, no murmurs",
        "irregularly irregular, II/VI systolic murmur",
    ),
    "lung_exam": (
        "CTAB",
        "crackles at bilateral bases",
        "coarse breath sounds throughout",
        "diffuse expiratory wheezes",
        "decreased breath sounds at the right base",
    ),
    "ext_exam": (
        "no edema, 2+ distal pulses",
        "2+ pitting edema to the knees",
        "cool extremities, mottled knees",
    ),
    "neuro_exam": (
        "A&Ox3, moves all extremities",
        "sedated, not following commands",
        "CN II-XII intact, strength 5/5 throughout",
        "left sided weakness, 3/5 strength",
    ),
}

PLAN_SENTENCES = (
    "Continue {treatment|treatment} and monitor response.",
    "Follow up {test|test} and adjust therapy accordingly.",
    "Trend {lab|test} every 6 hours.",
    "Hold {home_drug|treatment} given {finding|problem}.",
    "Restart home {home_drug|treatment} when tolerating PO.",
    "Consult {consult_service} regarding {dx|problem}.",
    "Monitor on telemetry for {risk|problem}.",
    "Replete electrolytes as needed, goal K > 4 and Mg > 2.",
    "Check {test|test} in the morning.",
    "Wean {support} as tolerated.",
    "Will discuss with the attending and family.",
)

PLAN_SLOTS = {
    "consult_service": (
        "cardiology",
        "nephrology",
        "GI",
        "infectious disease",
        "neurology",
        "palliative care",
        "surgery",
    ),
    "risk": ("arrhythmia", "recurrent bleeding", "hypoglycemia", "withdrawal", "aspiration"),
    "support": ("oxygen", "sedation", "pressors", "the ventilator", "the insulin drip"),
    "lab": ("lactate", "hematocrit", "potassium", "glucose", "creatinine", "troponin"),
}

ICU_PROPHYLAXIS = (
    "FEN: IVF at 75 cc/hr, replete lytes, NPO for now",
    "PPx: SC heparin, PPI, bowel regimen",
    "Access: PIV x2, right IJ CVL",
    "Code: {code_status}",
    "Dispo: ICU for now",
    "Communication: with patient and daughter (HCP)",
)

# --------------------------------------------------------------------------------------------
# Nursing systems review (carevue-style "Nursing/other" and metavision "Nursing").

NURSING_SYSTEMS = {
    "Neuro": (
        "Alert and oriented x3, MAE, follows commands.",
        "Lethargic, oriented to self only.",
        "PERRL 3mm brisk, no seizure activity noted.",
        "Restless overnight, reoriented frequently.",
    ),
    "CV": (
        "NSR 80s-90s, no ectopy. BP {sbp}/{dbp}.",
        "ST 110s-120s with occasional PVCs.",
        "HR {hr}, BP stable, peripheral pulses palpable.",
        "Afib with rates 100-130s, started on {rate_drug|treatment}.",
        "SR with rare PACs, SBP 100s-120s.",
    ),
    "Resp": (
        "LS clear, O2 sat 95-98% on {o2_any}.",
        "Coarse BS bilaterally, suctioned for thick yellow secretions.",
        "Dyspneic with exertion, RR 20s.",
        "Diminished at bases, using IS with encouragement.",
    ),
    "GI": (
        "Abd soft, +BS, tolerating diet.",
        "NPO, OGT to LIWS with bilious output.",
        "No BM this shift, bowel regimen given.",
        "Tube feeds at goal, residuals minimal.",
        "Abd distended, hypoactive BS.",
    ),
    "GU": (
        "Foley draining clear yellow urine, 40-60 cc/hr.",
        "Urine output poor, 10-15 cc/hr, team aware.",
        "Voiding without difficulty.",
        "Foley in place, UO adequate.",
    ),
    "ID": (
        "Tmax {temp_f}, on {abx|treatment}.",
        "Afebrile, WBC trending down.",
        "Febrile to {temp_f}, cultures sent, tylenol given.",
    ),
    "Skin": (
        "Intact, no breakdown noted.",
        "Stage II sacral decubitus, dressing changed.",
        "Bruising to bilateral arms.",
    ),
    "Social": (
        "Husband at bedside, updated on plan of care.",
        "Daughter called, updated by RN.",
        "No family contact this shift.",
        "Family in to visit, very supportive.",
    ),
}

# Sentences that a thorough nurse adds to the assessment and plan.
NURSING_EXTRA = (
    "Turned and repositioned every 2 hours, skin care provided.",
    "Oral care per protocol.",
    "Fall precautions maintained, bed alarm on.",
    "Labs drawn and sent as ordered.",
    "Medicated for pain with good effect per patient report.",
    "Safety checks done, call light within reach.",
    "Plan of care reviewed with the team on rounds.",
    "Will continue to monitor closely and update the team with any changes.",
    "Incentive spirometry encouraged, pulled to 750.",
    "Chest PT given, productive cough noted.",
    "Bath given, linens changed.",
    "Emotional support provided to patient and family.",
)

NURSING_SLOTS = {
    "rate_drug": ("diltiazem", "metoprolol", "amiodarone", "digoxin"),
    "abx": ("vancomycin", "zosyn", "cefepime", "ceftriaxone", "levofloxacin", "flagyl"),
}

# Systems-review lines that replace the usual ones when the stay's flag is set.
NURSING_FLAG_LINES = {
    "intubated": {
        "Neuro": "Sedated on {sedative|treatment}, opens eyes to voice.",
        "Resp": "Intubated on AC 500 x 14, PEEP 8, FiO2 50%.",
    },
    "pressors": {"CV": "Hypotensive to SBP 80s, {pressor|treatment} titrated up."},
}

# Metavision nursing care-plan blocks ("<problem>", Assessment, Action, Response, Plan): the
# response by severity tier.
CAREPLAN_RESPONSES = (
    ("Improving, vital signs within normal limits.", "Resolving, tolerating activity well."),
    ("Responding to treatment, continue to monitor.", "Slow improvement."),
    ("No change in status.", "Minimal response to interventions so far."),
    ("Condition worsening, team notified.", "Not responding to maximal therapy."),
)

# --------------------------------------------------------------------------------------------
# Everything else.

# Reasons for an exam by body region (the first word of the study name that matches).
RADIOLOGY_REASONS = {
    "CHEST": ("eval for infiltrate", "assess ETT placement", "r/o acute process", "line placement"),
    "VEINS": ("r/o DVT", "unilateral leg swelling"),
    "HEAD": ("assess for bleed", "eval for interval change", "r/o acute infarct"),
    "OTHER": ("r/o acute process", "eval for interval change", "assess for obstruction"),
}

# Routine observations a report lists besides its main findings, by body region.
RADIOLOGY_DETAILS = {
    "CHEST": (
        "The cardiomediastinal silhouette is {heart_size}.",
        "The hilar contours are within normal limits.",
        "Pulmonary vascularity is {vascularity}.",
        "Osseous structures are unremarkable for age.",
        "Degenerative changes are noted in the thoracic spine.",
        "The visualized upper abdomen is unremarkable.",
        "Surgical clips project over the right upper quadrant.",
        "Low lung volumes accentuate the bronchovascular markings.",
        "Patient rotation limits assessment of the mediastinal contours.",
        "A nasogastric tube courses below the diaphragm with its tip in the stomach.",
    ),
    "HEAD": (
        "There is no evidence of hydrocephalus.",
        "The ventricles and sulci are {ventricles}.",
        "Periventricular white matter hypodensities suggest chronic small vessel ischemic disease.",
        "The basal cisterns are patent.",
        "The visualized paranasal sinuses and mastoid air cells are clear.",
        "No calvarial fracture is identified.",
        "Gray-white matter differentiation is otherwise preserved.",
        "The orbits and extracranial soft tissues are unremarkable.",
    ),
    "VEINS": (
        "The common femoral, femoral and popliteal veins are compressible.",
        "Normal color flow and respiratory phasicity are seen.",
        "Augmentation is normal.",
        "Calf veins are patent where visualized.",
        "No Baker's cyst is seen.",
    ),
    "OTHER": (
        "The liver is normal in size and echotexture without a focal lesion.",
        "The gallbladder is unremarkable without stones or wall thickening.",
        "The pancreas and spleen are unremarkable.",
        "No lymphadenopathy is seen.",
        "The kidneys measure {kidney_size} cm bilaterally without stones.",
        "The bladder is decompressed around a Foley catheter.",
        "Atherosclerotic calcifications of the abdominal aorta without aneurysm.",
        "Visualized bowel loops are normal in caliber.",
    ),
}

RADIOLOGY_TECHNIQUES = {
    "CHEST": ("Single portable AP view of the chest.", "PA and lateral views of the chest."),
    "CT W/O": (
        "Multidetector CT images were obtained without intravenous contrast. Coronal and sagittal "
        "reformations were reviewed.",
    ),
    "CT W/": (
        "Contiguous axial images were acquired after the administration of intravenous contrast, "
        "with multiplanar reformats.",
    ),
    "HEAD": ("Axial images of the head without contrast.",),
    "VEINS": ("Grayscale, color and spectral Doppler images of the deep veins.",),
    "OTHER": ("Grayscale and color Doppler ultrasound images.", "Transabdominal ultrasound."),
}

# Extra observations that only cross-sectional studies (CT, ultrasound) make, by region.
RADIOLOGY_CT_DETAILS = {
    "CHEST": (
        "The airways are patent to the level of the segmental bronchi.",
        "There is no mediastinal, hilar or axillary lymphadenopathy by size criteria.",
        "The thyroid gland is unremarkable.",
        "Mild coronary artery calcifications are present.",
        "The main pulmonary artery is normal in caliber.",
        "Limited views of the upper abdomen show a small hiatal hernia.",
        "Mild emphysematous changes are seen at the apices.",
        "No suspicious osseous lesion is identified.",
    ),
    "HEAD": (
        "There is no shift of normally midline structures.",
        "No extra-axial collection is seen elsewhere.",
        "Mild mucosal thickening is noted in the right maxillary sinus.",
        "Vascular calcifications are seen in the cavernous carotid arteries.",
        "The cerebellum and brainstem are unremarkable.",
        "No acute territorial infarct is identified on this exam.",
    ),
    "OTHER": (
        "The adrenal glands are normal.",
        "The kidneys enhance symmetrically.",
        "The appendix is normal.",
        "The stomach and small bowel are unremarkable without obstruction.",
        "Colonic diverticulosis without evidence of diverticulitis.",
        "The uterus and adnexa are unremarkable.",
        "No free air or free fluid is seen.",
        "Degenerative changes are seen in the lumbar spine without fracture.",
    ),
}

# A CT on the first day for some diagnoses: (study, main finding, further findings...).
EARLY_CT = {
    "sepsis": (
        "CT ABDOMEN W/CONTRAST",
        "Striated enhancement of the right kidney with perinephric stranding, compatible with pyelonephritis.",
        "No renal abscess or drainable fluid collection.",
    ),
    "pneumonia": (
        "CT CHEST W/CONTRAST",
        "Dense consolidation of the right lower lobe with air bronchograms.",
        "Small right parapneumonic effusion. No pulmonary embolism.",
    ),
    "gi_bleed": (
        "CT ABDOMEN W/CONTRAST",
        "Active extravasation of contrast in the duodenum consistent with ongoing hemorrhage.",
        "Hyperdense material within the stomach, likely blood products.",
    ),
    "aki": (
        "CT ABDOMEN W/O CONTRAST",
        "No hydronephrosis or obstructing stone.",
        "Mildly atrophic kidneys bilaterally.",
    ),
    "copd": (
        "CT CHEST W/O CONTRAST",
        "Severe centrilobular emphysema with upper lobe predominance.",
        "Bronchial wall thickening without focal consolidation.",
    ),
    "overdose": (
        "CT HEAD W/O CONTRAST",
        "No acute intracranial abnormality.",
        "Endotracheal tube and orogastric tube partially imaged.",
    ),
}
EARLY_CT_RATE = 0.4

RADIOLOGY_SLOTS = {
    "heart_size": ("normal", "mildly enlarged", "stable and enlarged", "top normal"),
    "vascularity": ("normal", "mildly engorged", "increased", "within normal limits"),
    "ventricles": ("normal in size", "prominent, consistent with age-related involution"),
    "kidney_size": ("10.2", "11.5", "9.8", "12.1"),
}

RADIOLOGY_LATER_STUDIES = (
    (
        "CHEST (PORTABLE AP)",
        "Interval improvement in bilateral opacities.",
        "Lines and tubes unchanged in position.",
    ),
    (
        "CHEST (PA & LAT)",
        "No acute cardiopulmonary process.",
        "Heart size top normal; lungs are clear.",
    ),
    (
        "CT ABDOMEN W/CONTRAST",
        "No acute intra-abdominal process.",
        "Small amount of free fluid in the pelvis.",
    ),
    (
        "CT CHEST W/O CONTRAST",
        "Bilateral dependent atelectasis and small effusions.",
        "No pulmonary embolism.",
    ),
    (
        "UNILAT LOWER EXT VEINS",
        "No deep venous thrombosis in the right leg.",
        "Normal compressibility of the femoral vein.",
    ),
)

ECG_READINGS = (
    ("Sinus rhythm.", "Normal ECG."),
    ("Sinus tachycardia.", "Nonspecific ST-T wave changes."),
    ("Atrial fibrillation with rapid ventricular response.", "Low QRS voltages in the limb leads."),
    ("Sinus bradycardia.", "Left axis deviation."),
    (
        "Sinus rhythm with first degree A-V block.",
        "Q waves in the inferior leads consistent with prior infarction.",
    ),
    (
        "Sinus rhythm.",
        "ST segment elevations in leads II, III and aVF consistent with acute inferior injury.",
    ),
    ("Sinus tachycardia.", "Right bundle branch block."),
)

ECHO_FINDINGS = (
    "LEFT VENTRICLE: Normal LV wall thickness and cavity size. Normal regional and global LV systolic function.",
    "LEFT VENTRICLE: Mildly dilated LV cavity. Severe global LV hypokinesis. LVEF 25%.",
    "LEFT VENTRICLE: Inferior and inferolateral akinesis. LVEF 35-40%.",
    "RIGHT VENTRICLE: Normal RV chamber size and free wall motion.",
    "RIGHT VENTRICLE: Dilated RV cavity with moderate global free wall hypokinesis.",
    "AORTIC VALVE: Mildly thickened aortic valve leaflets. No AS. Trace AR.",
    "MITRAL VALVE: Mild mitral annular calcification. Mild (1+) MR.",
    "PERICARDIUM: No pericardial effusion.",
    "LEFT ATRIUM: Mild LA enlargement.",
    "LEFT ATRIUM: Normal LA size. No mass or thrombus in the body of the left atrium.",
    "RIGHT ATRIUM/INTERATRIAL SEPTUM: Normal RA size. No ASD by color Doppler.",
    "AORTA: Normal diameter of the aorta at the sinus, ascending and arch levels.",
    "TRICUSPID VALVE: Mildly thickened leaflets. Moderate (2+) TR. Mild PA systolic hypertension.",
    "PULMONIC VALVE/PULMONARY ARTERY: Pulmonic valve not well seen.",
    "GENERAL COMMENTS: Suboptimal image quality due to body habitus and the ventilator.",
    "INFERIOR VENA CAVA: Dilated IVC with less than 50% collapse, estimated RA pressure 15 mmHg.",
    "Conclusions: The left ventricular cavity size is normal with preserved global function.",
    "Compared with the prior study, the findings are similar.",
)

RESP_SENTENCES = (
    "Pt remains intubated on {vent_mode}, FiO2 {fio2}%, PEEP {peep}.",
    "BS coarse bilaterally, suctioned for moderate amounts of thick tan secretions.",
    "ABG {abg}.",
    "RSBI {rsbi} on spontaneous breathing trial this am.",
    "MDIs given via the vent circuit as ordered.",
    "Plan: wean FiO2 as tolerated, maintain sats > 92%.",
    "Cuff leak present. ETT 7.5 secured at 23 cm at the lip.",
    "Placed on BiPAP 12/5 for increased work of breathing.",
)

RESP_SLOTS = {
    "vent_mode": ("AC 450 x 16", "CMV 500 x 14", "PSV 10/5", "AC 400 x 20"),
    "fio2": ("40", "50", "60", "100"),
    "peep": ("5", "8", "10", "14"),
    "abg": ("7.38/42/88", "7.29/52/64", "7.21/61/58", "7.44/36/102"),
    "rsbi": ("45", "62", "110", "38"),
}

NUTRITION_SENTENCES = (
    "Pt NPO at present, on IVF.",
    "Current weight {weight} kg, admission weight {weight} kg.",
    "Estimated needs 1800-2100 kcal/day and 90-110 g protein/day.",
    "Recommend starting tube feeds at 10 ml/hr and advancing by 10 ml q6h to a goal of 60 ml/hr.",
    "Will follow for tolerance of diet and weight trends.",
    "Pt at moderate nutritional risk given poor intake prior to admission.",
)

REHAB_SENTENCES = (
    "Patient seen for PT evaluation per consult request.",
    "Bed mobility: min assist for supine to sit.",
    "Ambulated 50 feet with a rolling walker and contact guard.",
    "Balance impaired, fall risk high.",
    "Recommend rehab placement on discharge.",
    "Recommend home with services and PT follow up.",
    "Will continue to follow 3-5x per week.",
)

SOCIAL_SENTENCES = (
    "Met with patient's wife and son in the family room.",
    "Patient lives alone in an apartment and was independent with ADLs prior to admission.",
    "Family coping appropriately given the circumstances.",
    "Provided emotional support and information on resources.",
    "Health care proxy is the daughter, form on chart.",
    "Will follow for support and discharge planning.",
    "Patient has a history of substance use and was offered resources.",
)

CASE_MGMT_SENTENCES = (
    "Discharge planning initiated.",
    "Patient has Medicare and a supplemental plan.",
    "Screening for rehab facilities in progress.",
    "Family prefers a facility close to home.",
    "VNA referral placed for home services.",
    "Anticipated discharge in 2-3 days pending medical clearance.",
)

PHARMACY_SENTENCES = (
    "Pharmacy consulted for {pk_drug|treatment} dosing.",
    "Current CrCl estimated at {crcl} ml/min.",
    "Recommend {pk_drug|treatment} {pk_dose} and a trough before the fourth dose.",
    "Please page with questions.",
    "Drug interactions reviewed; no changes recommended.",
)

PHARMACY_SLOTS = {
    "pk_drug": ("vancomycin", "gentamicin", "tobramycin", "phenytoin", "warfarin"),
    "pk_dose": ("1 g IV q12h", "1250 mg IV q24h", "750 mg IV q12h", "500 mg IV q8h"),
    "crcl": ("35", "52", "78", "24", "90"),
}

CONSULT_SENTENCES = (
    "Asked to see this patient by the ICU team for {dx|problem}.",
    "Impression: {dx|problem}, likely related to {finding|problem}.",
    "Recommendations: {treatment|treatment} and repeat {test|test}.",
    "We will follow along with you.",
    "Thank you for this interesting consult.",
)

GENERAL_SENTENCES = (
    "Family meeting scheduled for tomorrow afternoon.",
    "Patient transferred to the floor in stable condition.",
    "Interpreter services used for this conversation.",
    "Spiritual care visited and offered support.",
    "Patient belongings sent home with family.",
)

# Hospital course paragraphs in discharge summaries.
COURSE_SENTENCES = (
    "She was admitted to the {unit} for {dx|problem}.",
    "{treatment|treatment} was started on admission and continued for a total of {days} days.",
    "{test|test} was unremarkable.",
    "Her {finding|problem} resolved with {treatment|treatment}.",
    "{finding|problem} was managed with {treatment|treatment}.",
    "She was transferred to the floor on hospital day {days}.",
    "Home {home_drug|treatment} was held on admission and restarted prior to discharge.",
    "Physical therapy evaluated the patient and recommended {dispo_rec}.",
    "Her creatinine peaked at {creat} and improved with fluids.",
)

DISCHARGE_INSTRUCTIONS = (
    "You were admitted to the hospital with {dx_plain}.",
    "Please take all of your medications as prescribed.",
    "Please call your doctor or return to the emergency room if you develop fever, chest pain, "
    "shortness of breath or any other concerning symptoms.",
    "Weigh yourself every morning and call your doctor if your weight goes up more than 3 lbs.",
    "Do not drive until cleared by your physician.",
)

DEATH_COURSE = (
    "Despite maximal support her condition continued to deteriorate.",
    "After a family meeting she was made comfort measures only.",
    "She passed away with family at the bedside.",
    "The patient expired on hospital day {days}.",
    "Autopsy was declined by the family.",
)

OUTCOME_GOOD = (
    "She improved steadily and was discharged in stable condition.",
    "She was discharged home with services.",
    "At discharge she was ambulating and tolerating a regular diet.",
)

DISPOSITIONS_ALIVE = ("Home", "Home With Service", "Extended Care", "Rehab")

DISPO_RECS = ("rehab", "home with PT", "a skilled nursing facility", "home without services")

# Neonatal ICU notes (the few newborns get only these, a babygram and a short summary).
NEONATAL_SENTENCES = (
    "Infant in isolette on servo control, temps stable.",
    "On CPAP +5 in 21-25% FiO2, mild intercostal retractions.",
    "Breath sounds clear and equal, no apnea or bradycardia spells this shift.",
    "HR 140s-160s, well perfused, cap refill < 3 seconds.",
    "Tolerating feeds of 20 cal/oz breast milk via gavage every 3 hours.",
    "Voiding and stooling appropriately.",
    "Bilirubin {bili}, phototherapy continued.",
    "Caffeine given as ordered.",
    "Blood culture negative to date, antibiotics discontinued at 48 hours.",
    "Parents in to visit and updated at the bedside.",
    "Active and alert with care, fontanelle soft and flat.",
    "Continue to monitor and support developmental care.",
)

NEONATAL_COURSE = (
    "Infant was born at {gestation} weeks by cesarean section for maternal preeclampsia.",
    "Apgars were 7 and 8.",
    "Required CPAP for respiratory distress and was weaned to room air on day of life {days}.",
    "Received ampicillin and gentamicin for 48 hours pending a negative blood culture.",
    "Peak bilirubin was {bili} on day of life {days}, treated with phototherapy.",
    "Feeds were advanced to full volume without difficulty.",
    "Hearing screen passed prior to discharge.",
)

NEONATAL_SLOTS = {"bili": ("8.2", "10.6", "12.1", "9.4"), "gestation": ("30", "32", "33", "34")}

SOCIAL_HISTORY = (
    (
        "Lives with her husband.",
        "Lives alone.",
        "Lives with her daughter.",
        "Resides at a nursing home.",
    ),
    ("Former smoker, quit 10 years ago.", "Denies tobacco.", "Smokes 1 ppd for 40 years."),
    ("Drinks socially.", "No alcohol or drug use.", "History of heavy alcohol use."),
)

FAMILY_HISTORY = (
    "Mother with diabetes. Father died of a heart attack in his 60s.",
    "Noncontributory.",
    "Brother with colon cancer.",
)

DISCHARGE_CONDITIONS = (
    "Stable, ambulating independently.",
    "Mental status: clear and coherent. Ambulatory with assistance.",
)

NURSING_SHIFTS = ("7a-7p", "7p-7a", "0700-1900", "1900-0700")

ECG_COMPARISONS = (
    "No previous tracing available for comparison.",
    "Compared to the previous tracing there is no significant change.",
)

WORSENING_IMPRESSIONS = (
    "Worsening diffuse bilateral opacities.",
    "Findings have progressed since the prior exam.",
)

ECHO_HEADER = (
    "Status: Inpatient",
    "Test: Portable TTE (Complete)",
    "Doppler: Full Doppler and color Doppler",
    "Technical Quality: Suboptimal",
)


@dataclass(frozen=True)
class AlliedNote:
    """A short note by another discipline: its sentences, and how often each outcome gets one."""

    category: str
    description: str
    heading: str
    sentences: tuple[str, ...]
    sentence_range: tuple[int, int]
    rate_if_survives: float
    rate_if_dies: float


ALLIED_NOTES = (
    AlliedNote(
        "Nutrition",
        "Nutrition Assessment",
        "Nutrition Assessment:",
        NUTRITION_SENTENCES,
        (4, 6),
        0.35,
        0.35,
    ),
    AlliedNote(
        "Rehab Services",
        "Physical Therapy Evaluation",
        "Physical Therapy Evaluation",
        REHAB_SENTENCES,
        (4, 7),
        0.35,
        0.0,
    ),
    AlliedNote(
        "Social Work",
        "Social Work Progress Note",
        "Social Work:",
        SOCIAL_SENTENCES,
        (3, 6),
        0.3,
        0.7,
    ),
    AlliedNote(
        "Case Management ", "Case Management Note", "", CASE_MGMT_SENTENCES, (3, 5), 0.35, 0.0
    ),
    AlliedNote("Pharmacy", "Pharmacy Note", "Pharmacy Note:", PHARMACY_SENTENCES, (3, 5), 0.2, 0.2),
    AlliedNote("General", "Generic Note", "", GENERAL_SENTENCES, (2, 4), 0.15, 0.15),
)
CONSULT_RATE = 0.25

# Placeholder kinds for MIMIC-III de-identification tags.
NAME_TAGS = (
    "Last Name (NamePattern1)",
    "Last Name (NamePattern4)",
    "First Name8 (NamePattern2)",
    "Known lastname",
    "Doctor Last Name",
    "Name (NI)",
)
OTHER_TAGS = (
    "Hospital1",
    "Hospital",
    "Location (un)",
    "Telephone/Fax (1)",
    "MD Number(1)",
    "Numeric Identifier",
)

# --------------------------------------------------------------------------------------------
# STS frames: a finding frame and a medication frame, realised by several templates each. The
# negated list parallels the positive one (same index, same wording) so that a negation flip keeps
# most words: high overlap, low similarity.

STS_FINDING_TEMPLATES = (
    "There is a {severity} {site} {finding}.",
    "{Severity} {site} {finding} is seen.",
    "Imaging shows {site} {finding}, {severity} in extent.",
    "{Site} {finding}, {severity}.",
    "Findings are consistent with a {severity} {site} {finding}.",
    "A {severity} {finding} is noted, {site}.",
)

STS_NEG_FINDING_TEMPLATES = (
    "There is no {site} {finding}.",
    "No {site} {finding} is seen.",
    "Imaging shows no {site} {finding}.",
    "No {site} {finding}.",
    "Findings are not consistent with a {site} {finding}.",
    "No {finding} is noted, {site}.",
)

STS_MED_TEMPLATES = (
    "Take {drug} {dose} {route} {freq}.",
    "The patient was instructed to take {dose} of {drug} {route} {freq}.",
    "{Drug} {dose} {route} {freq} was prescribed.",
    "Continue {drug} at a dose of {dose} {freq}.",
    "{Freq}, the patient takes {drug} {dose} {route}.",
)

STS_STOP_MED_TEMPLATES = (
    "Stop taking {drug} {dose} {route} {freq}.",
    "The patient was instructed to stop {dose} of {drug} {route} {freq}.",
    "{Drug} {dose} {route} {freq} was discontinued.",
    "Discontinue {drug} at a dose of {dose} {freq}.",
    "{Freq}, the patient no longer takes {drug} {dose} {route}.",
)

STS_DRUGS = {
    "metoprolol": ("metoprolol", "lopressor"),
    "furosemide": ("furosemide", "lasix"),
    "acetaminophen": ("acetaminophen", "tylenol"),
    "atorvastatin": ("atorvastatin", "lipitor"),
    "pantoprazole": ("pantoprazole", "protonix"),
    "lisinopril": ("lisinopril", "prinivil"),
}

STS_DOSES = ("25 mg", "50 mg", "10 mg", "40 mg", "500 mg", "20 mg")

STS_ROUTES = {"oral": ("by mouth", "PO", "orally"), "iv": ("intravenously", "IV")}

STS_FREQS = {
    "daily": ("once daily", "every day", "daily"),
    "bid": ("twice daily", "two times a day", "BID"),
    "night": ("at bedtime", "every night", "qHS"),
}


# --------------------------------------------------------------------------------------------
# Charted and lab items (MIMIC-style ITEMIDs) and the model of each hourly variable.


@dataclass(frozen=True)
class Item:
    itemid: int
    label: str
    level2: str
    unit: str
    source: str  # carevue, metavision or labevents
    abbreviation: str = ""
    category: str = "Routine Vital Signs"


# The chart items of each database source, and one lab item per lab variable.
# fmt: off
CHART_ITEMS = (
    Item(211, "Heart Rate", "heart rate", "BPM", "carevue"),
    Item(51, "Arterial BP [Systolic]", "systolic blood pressure", "mmHg", "carevue"),
    Item(8368, "Arterial BP [Diastolic]", "diastolic blood pressure", "mmHg", "carevue"),
    Item(52, "Arterial BP Mean", "mean blood pressure", "mmHg", "carevue"),
    Item(455, "NBP [Systolic]", "systolic blood pressure", "mmHg", "carevue"),
    Item(8441, "NBP [Diastolic]", "diastolic blood pressure", "mmHg", "carevue"),
    Item(456, "NBP Mean", "mean blood pressure", "mmHg", "carevue"),
    Item(618, "Respiratory Rate", "respiratory rate", "BPM", "carevue"),
    Item(646, "SpO2", "oxygen saturation", "%", "carevue"),
    Item(678, "Temperature F", "temperature", "Deg. F", "carevue"),
    Item(676, "Temperature C", "temperature", "Deg. C", "carevue"),
    Item(198, "GCS Total", "glascow coma scale total", "points", "carevue"),
    Item(807, "Fingerstick Glucose", "glucose", "mg/dL", "carevue"),
    Item(190, "FiO2 Set", "fraction inspired oxygen", "", "carevue", category="Respiratory"),
    Item(220045, "Heart Rate", "heart rate", "bpm", "metavision", "HR"),
    Item(220050, "Arterial Blood Pressure systolic", "systolic blood pressure", "mmHg", "metavision", "ABPs"),
    Item(220051, "Arterial Blood Pressure diastolic", "diastolic blood pressure", "mmHg", "metavision", "ABPd"),
    Item(220052, "Arterial Blood Pressure mean", "mean blood pressure", "mmHg", "metavision", "ABPm"),
    Item(220179, "Non Invasive Blood Pressure systolic", "systolic blood pressure", "mmHg", "metavision", "NBPs"),
    Item(220180, "Non Invasive Blood Pressure diastolic", "diastolic blood pressure", "mmHg", "metavision", "NBPd"),
    Item(220181, "Non Invasive Blood Pressure mean", "mean blood pressure", "mmHg", "metavision", "NBPm"),
    Item(220210, "Respiratory Rate", "respiratory rate", "insp/min", "metavision", "RR"),
    Item(220277, "O2 saturation pulseoxymetry", "oxygen saturation", "%", "metavision", "SpO2"),
    Item(223761, "Temperature Fahrenheit", "temperature", "?F", "metavision", "Temperature F"),
    Item(223762, "Temperature Celsius", "temperature", "?C", "metavision", "Temperature C"),
    Item(226755, "GCS Total Score", "glascow coma scale total", "points", "metavision", "GCS Total", "Neurological"),
    Item(225664, "Glucose finger stick", "glucose", "mg/dL", "metavision", "Glucose FS", "Labs"),
    Item(223835, "Inspired O2 Fraction", "fraction inspired oxygen", "%", "metavision", "FiO2", "Respiratory"),
)
LAB_ITEMS = (
    Item(50931, "Glucose", "glucose", "mg/dL", "labevents", category="Chemistry"),
    Item(50813, "Lactate", "lactate", "mmol/L", "labevents", category="Blood Gas"),
    Item(51301, "White Blood Cells", "white blood cell count", "K/uL", "labevents", category="Hematology"),
    Item(50912, "Creatinine", "creatinine", "mg/dL", "labevents", category="Chemistry"),
    Item(51222, "Hemoglobin", "hemoglobin", "g/dL", "labevents", category="Hematology"),
)
# fmt: on


@dataclass(frozen=True)
class Variable:
    """One signal: its stay-mean model, spread, rounding, sampling rate and valid ranges."""

    level2: str
    level1: str
    base: float
    per_severity: float
    per_reserve: float
    between_sd: float  # spread of stay means
    within_sd: float  # hour-to-hour spread
    decimals: int
    rate: float  # chance of a measurement each hour (chart) or draw interval in hours (labs)
    ranges: tuple[
        float, float, float, float, float
    ]  # outlier low, valid low, impute, valid high, outlier high
    log_scale: bool = False


# Columns: LEVEL2, LEVEL1, base, per severity, per reserve, between-stay sd, within-stay sd,
# decimals, rate, ranges (log-scale variables take base and sds in log units).
# fmt: off
VARIABLES = (
    Variable("heart rate", "Heart Rate", 86, 9.0, 3.0, 8, 5, 0, 1.0, (0, 0, 86, 350, 390)),
    Variable("systolic blood pressure", "Systolic blood pressure", 121, -9.0, -4.0, 11, 8, 0, 0.9, (0, 0, 118, 375, 375)),
    Variable("diastolic blood pressure", "Diastolic blood pressure", 63, -5.0, -2.0, 7, 5, 0, 0.9, (0, 0, 59, 375, 375)),
    Variable("respiratory rate", "Respiratory rate", 18.5, 2.6, 1.0, 2.5, 2.5, 0, 0.9, (0, 0, 19, 300, 330)),
    Variable("oxygen saturation", "Oxygen saturation", 97.2, -1.3, -0.5, 1.0, 1.0, 0, 0.92, (0, 0, 98, 100, 150)),
    Variable("temperature", "Temperature", 36.9, 0.15, 0.0, 0.3, 0.3, 1, 0.25, (14.2, 26, 37, 45, 47)),
    Variable("glascow coma scale total", "Glascow coma scale total", 14.6, -1.6, -0.4, 1.0, 0.8, 0, 0.25, (0, 3, 15, 15, 16)),
    Variable("glucose", "Glucose", 135, 10.0, 6.0, 25, 18, 0, 0.2, (0, 33, 128, 2000, 2200)),
    Variable("fraction inspired oxygen", "Fraction inspired oxygen", 45, 10.0, 3.0, 8, 5, 0, 0.5, (0.2, 0.21, 0.21, 1, 1.1)),
    Variable("lactate", "Lactate", 0.35, 0.3, 0.35, 0.2, 0.15, 1, 6.0, (0, 0.4, 1.8, 30, 33), log_scale=True),
    Variable("white blood cell count", "White blood cell count", 9.5, 2.4, 1.2, 2.0, 1.0, 1, 8.0, (0, 0, 9, 1000, 1100)),
    Variable("creatinine", "Creatinine", 0.0, 0.15, 0.45, 0.2, 0.08, 1, 8.0, (0, 0.1, 1, 60, 66), log_scale=True),
    Variable("hemoglobin", "Hemoglobin", 11.5, -0.5, -0.4, 1.0, 0.4, 1, 8.0, (0, 0, 10.2, 25, 30)),
)
# fmt: on
VARIABLE = {v.level2: v for v in VARIABLES}
# Mean blood pressure is derived from the systolic and diastolic values, like a monitor does.
MEAN_BP = Variable(
    "mean blood pressure", "Mean blood pressure", 0, 0, 0, 0, 2, 0, 0.9, (0, 14, 77, 330, 375)
)
