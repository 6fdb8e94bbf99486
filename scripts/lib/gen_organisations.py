"""Generated organisations in the general import format, the same every run.

    python3 scripts/lib/gen_organisations.py ROWS FILE [SIZE_OFFSET]

Codes ORG0000000…, kinds housing corporation / water board / other in turn,
names with accents, random provinces and coordinates inside the Netherlands.
A non-zero SIZE_OFFSET changes every row's size (an import that updates all).
Used by scripts/bench-import.sh and scripts/bench-mixed.sh.
"""
import random
import sys

rows, path = int(sys.argv[1]), sys.argv[2]
offset = int(sys.argv[3]) if len(sys.argv) > 3 else 0
random.seed(42)
provinces = ["Drenthe", "Flevoland", "Fryslân", "Gelderland", "Groningen", "Limburg",
             "Noord-Brabant", "Noord-Holland", "Overijssel", "Utrecht", "Zeeland", "Zuid-Holland"]
kinds = ["housing_corporation", "water_board", "other"]
with open(path, "w", encoding="utf-8") as f:
    f.write("code,kind,name,province,size,lat,lon,email,language\n")
    for i in range(rows):
        f.write(f"ORG{i:07d},{kinds[i % 3]},Organisatie {i} Ñoord-Oost,{random.choice(provinces)},"
                f"{random.randint(100, 900000) + offset},"
                f"{random.uniform(50.8, 53.5):.5f},{random.uniform(3.4, 7.2):.5f},"
                f"info{i}@org{i}.example,{'nl' if i % 4 else 'en'}\n")
