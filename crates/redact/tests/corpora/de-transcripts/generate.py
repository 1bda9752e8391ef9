#!/usr/bin/env python3
"""Writes positives.txt and negatives.txt of the German transcript corpus (see README.md).
Deterministic: `python3 generate.py` rewrites both files byte for byte."""
import random
from ids import gen_tax, gen_kvnr, gen_rvnr, tax_ok, kvnr_check, rv_check

R = random.Random(25)

# First names as callers say them; many are rarer than the detector's gazetteer covers.
FIRST = """Finn Anna Lena Jonas Paul Marie Sophie Lukas Leon Mia Emma Felix Hannah Elias Lina Noah
Greta Jürgen Sabine Thomas Petra Wolfgang Ursula Helmut Monika Dieter Renate Klaus Birgit Uwe
Karl-Heinz Anna-Lena Hans-Peter Marie-Luise Özlem Mehmet Ayşe Yusuf Zeynep Emre Elif Murat
Agnieszka Łukasz Małgorzata Piotr Katarzyna Tomasz Swetlana Dmitri Olga Fatima Mohammed Karim
Layla Giulia Matteo José Lucía François Chloé Jessica Kevin Michelle Dennis Jennifer Sven
Gesine Hauke Tjark Fenja Okan Dilara Wiebke Ilka Jannes Smilla Bente Kalle Thore Enno Merle
Hilde Gunnar Reinhild Friedhelm""".split()
LAST = """Richter Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch
Bauer Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange
Schmitt Werner Krause Meier Lehmann Köhler Schulze-Böhm Müller-Lüdenscheidt Yılmaz Kaya Demir
Şahin Çelik Öztürk Dąbrowski Kowalski Wiśniewski Nowak Lewandowski Iwanow Petrowa Haddad
Al-Sayed Rossi Esposito García Fernández Dubois Lefèvre Nguyen Tran Sørensen Åberg Jansen
de Vries von Bülow Grünewald Ziegler Kühn Vogel Friedrich Scholz Engel Jung Hahn Brandt Haas
Sommer Graf Dietrich""".split("\n")
LAST = " ".join(LAST).replace("de Vries", "de_Vries").replace("von Bülow", "von_Bülow").split()
LAST = [l.replace("_", " ") for l in LAST]

def fn(): return R.choice(FIRST)
def ln(): return R.choice(LAST)
def full():
    f = fn()
    if R.random() < 0.15:
        f = f + " " + R.choice([x for x in FIRST if x != f and "-" not in x])
    return f + " " + ln()

def m(kind, value): return f"⟦{kind}|{value}⟧"

CUED = [
    "Guten Tag, mein Name ist {F}.",
    "Ja hallo, {L} mein Name, ich wollte einen Termin vereinbaren.",
    "Hallo, hier spricht {F}, ich rufe wegen meiner Tochter an.",
    "Ich heiße {F} und bin neu in der Praxis.",
    "Vielen Dank, Frau {L}, dann bis Dienstag.",
    "Der Termin ist für Herrn {L} eingetragen.",
    "Ich möchte einen Termin für meinen Sohn {FN} machen.",
    "Für meine Tochter {FN} bräuchte ich eine Überweisung.",
    "Ist Frau Dr. {L} am Montag in der Praxis?",
    "Hier ist {F}, ich hatte gestern schon angerufen.",
    "Agent: Gerne, Herr {L}. Um wie viel Uhr passt es Ihnen?",
    "Agent: Danke, Frau {L}, ich habe Sie eingetragen.",
    "{F} am Apparat, guten Morgen.",
    "Mein Name ist {F}, ich bin Patientin bei Ihnen.",
    "Guten Morgen, {L} hier, mein Name ist {F2}.",
    "Ich rufe an für meine Frau {FN}, sie hat Zahnschmerzen.",
    "Mein Mann {FN} braucht ein neues Rezept.",
    "Ja, also ich heiße {F}, mit Bindestrich.",
    "Hi, my name is {F}, I'd like to book a cleaning.",
    "This is {F} calling about my appointment on Friday.",
    "Hello, Dr. {L} referred me to you.",
    "Thanks, Mrs. {L}, see you next week.",
    "I'm calling for my daughter {FN}, she needs a check-up.",
    "Hallo, Frau Doktor {L} hat mir die Praxis empfohlen.",
    "Können Sie Herrn Dr. {L} ausrichten, dass ich angerufen habe?",
    "User: Ja, mein Name ist {F}.\\nAgent: Danke!",
]
UNCUED = [
    "Kann {FN} morgen früh vorbeikommen?",
    "{FN} hat seit Tagen Zahnschmerzen.",
    "Ich rufe für {FN} an, sie hat Fieber.",
    "Sagen Sie {FN} bitte, dass der Termin verschoben ist.",
    "Ich bin {FN}, wir hatten letzte Woche telefoniert.",
    "Agent: Alles klar, {FN}, dann bis Donnerstag.",
    "Ja genau, {FN} {LN}, die Adresse ist gleich geblieben.",
    "Die Überweisung ist für {FN} {LN}.",
    "Also {FN} kommt dann mit ihrer Mutter.",
    "Der Termin von {FN} war doch am Mittwoch?",
    "{FN} {LN}, geboren in Hamburg.",
    "Oh, {FN} ist heute leider krank.",
    "Can {FN} come in on Monday?",
    "Okay, {FN}, I've booked you for Tuesday.",
]

def dob():
    d, mo, y = R.randint(1, 28), R.randint(1, 12), R.randint(1930, 2020)
    months = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()
    en = "January February March April May June July August September October November December".split()
    ords = "ersten zweiten dritten vierten fünften sechsten siebten achten neunten zehnten elften zwölften".split()
    tens = {3: "dreißig", 4: "vierzig", 5: "fünfzig", 6: "sechzig", 7: "siebzig", 8: "achtzig", 9: "neunzig"}
    units = "ein zwei drei vier fünf sechs sieben acht neun".split()
    def spoken_year(y):
        t, u = (y % 100) // 10, y % 10
        if y >= 2000 or t < 3:
            return str(y)
        return "neunzehnhundert" + (units[u - 1] + "und" if u else "") + tens[t]
    forms = [
        f"{d:02d}.{mo:02d}.{y}", f"{d}.{mo}.{y}", f"{d:02d}.{mo:02d}.{y % 100:02d}",
        f"{d}. {months[mo-1]} {y}", f"{d}. {months[mo-1]} {spoken_year(y)}",
        f"{ords[min(d,12)-1]} {ords[mo-1]} {spoken_year(y)}", f"{y}-{mo:02d}-{d:02d}",
        f"{d:02d}/{mo:02d}/{y}",
    ]
    return R.choice(forms), (en[mo - 1], d, y)

DOB_T = [
    "Ich bin geboren am {D}.",
    "Mein Geburtsdatum ist der {D}.",
    "Geburtsdatum: {D}, Versicherung AOK.",
    "Ich bin am {D} geboren.",
    "Geboren am {D}, in Köln.",
    "geb. {D}",
    "Das Geburtsdatum von meinem Sohn ist {D}.",
]

def spaced_kvnr(k):
    style = R.randrange(5)
    if style == 0: return k
    if style == 1: return f"{k[0]} {k[1:4]} {k[4:7]} {k[7:]}"
    if style == 2: return f"{k[0]}{k[1:5]} {k[5:]}"
    if style == 3: return f"{k[0]} {k[1:]}"
    return f"{k[0]}-{k[1:4]}-{k[4:7]}-{k[7:]}"

def spaced_tax(t):
    style = R.randrange(4)
    if style == 0: return t
    if style == 1: return f"{t[:2]} {t[2:5]} {t[5:8]} {t[8:]}"
    if style == 2: return f"{t[:3]} {t[3:6]} {t[6:9]} {t[9:]}"
    return f"{t[:2]}/{t[2:5]}/{t[5:8]}/{t[8:]}"

def spaced_rv(r):
    return r if R.random() < 0.5 else f"{r[:2]} {r[2:8]} {r[8]} {r[9:]}"

KVNR_T = [
    "Meine Versichertennummer ist {K}.",
    "Die Nummer auf der Karte lautet {K}, AOK Bayern.",
    "Versichertennummer {K}, ja genau.",
    "Krankenversichertennummer: {K}",
    "Ähm, das ist {K}, glaube ich.",
    "My insurance number is {K}.",
]
TAX_T = [
    "Meine Steuer-ID ist {T}.",
    "Steueridentifikationsnummer {T}, brauchen Sie die?",
    "Die Steuernummer für die Rechnung: {T}",
    "Ja, {T} ist meine Identifikationsnummer.",
]
RV_T = [
    "Meine Rentenversicherungsnummer lautet {V}.",
    "Sozialversicherungsnummer {V}, für den Antrag.",
    "Die RV-Nummer ist {V}.",
]

def fill(t):
    out = t
    if "{F2}" in out: out = out.replace("{F2}", m("name_cued", full()))
    out = out.replace("{F}", m("name_cued", full()))
    if "{L}" in out: out = out.replace("{L}", m("name_cued", ln()))
    cued = any(c in t for c in ["Sohn {FN}", "Tochter {FN}", "Frau {FN}", "Mann {FN}", "daughter {FN}"])
    kind = "name_cued" if cued else "name_uncued"
    if "{FN} {LN}" in out:
        out = out.replace("{FN} {LN}", m(kind, fn() + " " + ln()))
    out = out.replace("{FN}", m(kind, fn()))
    return out

pos = []
for _ in range(6):
    for t in CUED: pos.append(fill(t))
for _ in range(10):
    for t in UNCUED: pos.append(fill(t))
for _ in range(8):
    for t in DOB_T:
        d, _ = dob(); pos.append(t.replace("{D}", m("birth_date", d)))
for _ in range(6):
    _, (mon, d, y) = dob()
    pos.append(f"I was born on {m('birth_date', f'{mon} {d}, {y}')}.")
    pos.append(f"Date of birth: {m('birth_date', f'{d} {mon} {y}')}.")
    pos.append(f"Jahrgang {m('birth_date', str(y))}, also schon etwas älter.")
for _ in range(10):
    for t in KVNR_T: pos.append(t.replace("{K}", m("kvnr", spaced_kvnr(gen_kvnr(R)))))
for _ in range(20):
    for t in TAX_T: pos.append(t.replace("{T}", m("tax_id", spaced_tax(gen_tax(R)))))
for _ in range(25):
    for t in RV_T: pos.append(t.replace("{V}", m("rvnr", spaced_rv(gen_rvnr(R)))))
# Several kinds in one utterance, as callers say them.
for _ in range(30):
    d, _ = dob()
    pos.append(f"Mein Name ist {m('name_cued', full())}, geboren am {m('birth_date', d)}, "
               f"Versichertennummer {m('kvnr', spaced_kvnr(gen_kvnr(R)))}.")

# Hard negatives: what fills these calls and must stay byte for byte.
def bad_tax():
    while True:
        t = str(R.randint(10**10, 10**11 - 1))
        if not tax_ok(t): return t
def bad_kvnr():
    k = gen_kvnr(R); return k[:-1] + str((int(k[-1]) + R.randint(1, 9)) % 10)
def bad_rv():
    r = gen_rvnr(R); return r[:-1] + str((int(r[-1]) + R.randint(1, 9)) % 10)
def uuid():
    h = "".join(R.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
def ts():
    return f"2026-{R.randint(1,12):02d}-{R.randint(1,28):02d}T{R.randint(0,23):02d}:{R.randint(0,59):02d}:{R.randint(0,59):02d}.{R.randint(0,999):03d}Z"

NOUNS = """Termin Zahnreinigung Überweisung Rezept Untersuchung Behandlung Kontrolle Impfung
Blutabnahme Befund Krankenkasse Versichertenkarte Sprechstunde Wartezimmer Füllung Krone
Röntgenbild Ultraschall Krankschreibung Bescheinigung Physiotherapie Vorsorge""".split()
DAYS = "Montag Dienstag Mittwoch Donnerstag Freitag Samstag".split()
JOBS = "Koch Bäcker Schneider Fischer Müller Lehrer Maler Zimmermann Schreiner Gärtner".split()
NEG_T = [
    "Ich bin {JOB} von Beruf, deshalb kann ich nur nachmittags.",
    "Der {NOUN} am {DAY} um {H}:{MIN} Uhr passt mir gut.",
    "Ich brauche eine {NOUN} für nächste Woche.",
    "Wann ist die nächste {NOUN} frei?",
    "Die {NOUN} kostet {P},{C} Euro.",
    "Ihr Termin ist am {DD}.{MM}.2026 um {H}:{MIN} Uhr.",
    "Wir haben {DAY} bis Freitag von 8 bis 18 Uhr geöffnet.",
    "Hier ist Ihre {NOUN}, bitte unterschreiben.",
    "Hier ist die Praxis am Markt, was kann ich für Sie tun?",
    "Eine Frau hat vorhin wegen der {NOUN} angerufen.",
    "Bitte bringen Sie Ihre Versichertenkarte und die {NOUN} mit.",
    "Bestellnummer {BADTAX}, Lieferung am {DAY}.",
    "Rechnung Nr. {BADTAX} über {P},{C} EUR.",
    "Vorgang {BADKVNR} ist abgeschlossen.",
    "Artikel {BADRV} ist nicht mehr lieferbar.",
    "request_id={UUID} route=/retell/function status=200",
    "{TS} INFO call_id=call_{HEX} completed in {H}ms",
    "{TS} WARN upstream retry attempt=2 request_id={UUID}",
    "Im Ernst, das ist ein Notfall, ich habe starke Schmerzen.",
    "Mark my words, the {DAY} slot is better.",
    "Will you send me the form by e-mail?",
    "May I ask a question about the invoice?",
    "Can I come in on {DAY} morning?",
    "Ist der {NOUN} im August oder im September?",
    "Die Praxis ist am Rosenmontag geschlossen.",
    "Mein Geburtstag ist nächste Woche, da habe ich keine Zeit.",
    "Wie ist Ihr Name, bitte?",
    "Der Name der Praxis ist Zahnarztpraxis am Park.",
    "Geht auch {DAY} in {N} Wochen?",
    "Ich habe {N} Kinder, alle sind bei Ihnen Patienten.",
    "Die Wartezeit beträgt etwa {N} Minuten.",
    "Auftrag vom {DD}.{MM}.2025, Betrag {P},{C} €.",
    "Meine alte Krankenkasse war die Barmer, jetzt bin ich bei der Techniker.",
    "Agent: Guten Tag, Praxis Sonnenschein, was kann ich für Sie tun?",
    "User: Ich hätte gern einen Termin zur {NOUN}.",
    "Agent: Am {DAY} um {H} Uhr wäre noch etwas frei.",
    "Das Röntgen hatten wir im Mai gemacht.",
    "Der Wolf im Wald, sagt mein Kind immer.",
    "Die Rose im Wartezimmer ist schön.",
    "Kai Nummer {N} bitte, am Hafen.",
    "Version 2.{N}.{H} deployed, build {BADTAX}.",
    "Im Jahr 2019 war ich zuletzt beim Zahnarzt.",
    "Seit {DD}.{MM}.2024 habe ich die Beschwerden.",
]
def fill_neg(t):
    rep = {
        "{JOB}": R.choice(JOBS), "{NOUN}": R.choice(NOUNS), "{DAY}": R.choice(DAYS),
        "{H}": str(R.randint(8, 17)), "{MIN}": R.choice(["00", "15", "30", "45"]),
        "{P}": str(R.randint(5, 400)), "{C}": f"{R.randint(0, 99):02d}",
        "{DD}": f"{R.randint(1, 28):02d}", "{MM}": f"{R.randint(1, 12):02d}",
        "{BADTAX}": bad_tax(), "{BADKVNR}": bad_kvnr(), "{BADRV}": bad_rv(), "{UUID}": uuid(),
        "{TS}": ts(), "{HEX}": "".join(R.choice("0123456789abcdef") for _ in range(32)),
        "{N}": str(R.randint(2, 9)),
    }
    for k, v in rep.items():
        t = t.replace(k, v)
    return t

neg = [fill_neg(t) for _ in range(8) for t in NEG_T]

with open("positives.txt", "w") as f:
    f.write("\n".join(pos) + "\n")
with open("negatives.txt", "w") as f:
    f.write("\n".join(neg) + "\n")
print(len(pos), "positives,", len(neg), "negatives")
