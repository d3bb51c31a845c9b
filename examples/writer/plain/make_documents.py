"""Write the everyday documents that examples/writer/plain/tasks.jsonl starts from.

They are made with python-docx (as a user's Word files would be), outside lamforge's own
template library, so that tasks on them measure whether a model generalises.

    .venv/bin/python examples/writer/plain/make_documents.py
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import docx
from docx.document import Document

DOCS = Path(__file__).resolve().parent / "docs"


def _new() -> Document:
    d = docx.Document()
    props = d.core_properties
    props.author = props.last_modified_by = "lamforge examples"
    props.title = props.comments = ""
    props.created = props.modified = datetime(2024, 1, 15, 9, 0, 0)
    props.revision = 1
    return d


def _save(d: Document, name: str) -> None:
    # python-docx's default template carries a second copy of its styles and a thumbnail that
    # nothing reads: drop them to keep each file small.
    for rels in (d.part.rels, d.part.package.rels):
        for r_id, rel in list(rels.items()):
            if rel.reltype.endswith(("/stylesWithEffects", "/thumbnail")):
                del rels[r_id]
    buf = io.BytesIO()
    d.save(buf)
    # fixed timestamps inside the zip, so that running the script again changes no byte
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(DOCS / name, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(zipfile.ZipInfo(item.filename, (2024, 1, 15, 9, 0, 0)),
                         src.read(item.filename), zipfile.ZIP_DEFLATED)


def memo() -> None:
    d = _new()
    d.add_paragraph("Staff Meeting Notes", "Title")
    d.add_paragraph("To: All office staff")
    d.add_paragraph("From: Priya Nair, Office Manager")
    d.add_paragraph("Date: 14 March 2024")
    d.add_paragraph("Thank you to everyone who came to Tuesday's meeting in Room 4B. Here is a "
                    "short recap of what we agreed, so that those who could not attend are up "
                    "to date.")
    d.add_paragraph("The car park will be resurfaced over the weekend of 23 March. Please park "
                    "on Mill Lane until the work is finished, and do not leave bikes against "
                    "the fence.")
    d.add_paragraph("From next month the kitchen rota changes: each team cleans the kitchen for "
                    "one week in turn, starting with Accounts. The rota is pinned on the fridge "
                    "door.")
    d.add_paragraph("We will hold a fire drill some time in April. It will not be announced in "
                    "advance, so please make sure you know your nearest exit.")
    d.add_paragraph("The next staff meeting is on 11 April at 10:00, again in Room 4B.")
    _save(d, "memo.docx")


def cover_letter() -> None:
    d = _new()
    for line in ("Daniel Reyes", "27 Harbour Road, Bristol BS1 4QA", "5 June 2024",
                 "Ms Helen Okafor", "Head of Library Services, Riverside Public Library",
                 "Dear Ms Okafor,"):
        d.add_paragraph(line)
    d.add_paragraph("I am writing to apply for the post of Library Assistant advertised on your "
                    "website (reference LA-2291). I have spent the last three years working in "
                    "a busy bookshop, and I would love to bring that experience to a public "
                    "library.")
    d.add_paragraph("In my current job I run the children's reading hour every Saturday, look "
                    "after the stock system and deal with customer orders. I am patient, well "
                    "organised and comfortable with computers, and I enjoy helping people find "
                    "exactly what they are looking for.")
    d.add_paragraph("I would be glad to come in for an interview at any time that suits you. "
                    "Thank you for considering my application.")
    d.add_paragraph("Yours sincerely,")
    d.add_paragraph("Daniel Reyes")
    _save(d, "cover_letter.docx")


def recipe() -> None:
    d = _new()
    d.add_paragraph("Lemon Lentil Soup", "Title")
    d.add_paragraph("A bright, filling soup that is ready in about forty minutes. Serves four.")
    d.add_paragraph("Ingredients", "Heading 1")
    for item in ("200 g red lentils", "1 large onion, chopped", "2 carrots, diced",
                 "3 cloves of garlic, crushed", "1 litre vegetable stock", "Juice of one lemon",
                 "Salt and pepper to taste"):
        d.add_paragraph(item, "List Bullet")
    d.add_paragraph("Method", "Heading 1")
    for step in ("Soften the onion and carrots in a little oil for about ten minutes.",
                 "Add the garlic and cook for one more minute.",
                 "Rinse the lentils, add them with the stock and bring to the boil.",
                 "Simmer for twenty-five minutes, stirring now and then.",
                 "Blend until smooth, then stir in the lemon juice and season."):
        d.add_paragraph(step, "List Number")
    d.add_paragraph("Tip: the soup keeps for three days in the fridge and freezes well.")
    _save(d, "recipe.docx")


def product() -> None:
    d = _new()
    d.add_paragraph("Brightwell Desk Lamp", "Title")
    d.add_paragraph("Clear, even light for long evenings at the desk.")
    d.add_paragraph("Overview", "Heading 1")
    d.add_paragraph("The Brightwell is a slim LED desk lamp with an adjustable arm and a heavy "
                    "base that will not tip over. It uses less power than an ordinary light bulb "
                    "and stays cool to the touch.")
    d.add_paragraph("Key features", "Heading 1")
    for item in ("Five brightness levels and three colour temperatures",
                 "USB-C charging port in the base", "Switches itself off after one hour",
                 "Folds flat for travel"):
        d.add_paragraph(item, "List Bullet")
    d.add_paragraph("Specifications")
    d.add_paragraph("Height 45 cm, weight 1.2 kg, power 8 W. Two-year warranty.")
    d.add_paragraph("Price and availability", "Heading 1")
    d.add_paragraph("The Brightwell costs £49.99 and ships from 1 September in black, white and "
                    "sage green.")
    _save(d, "product.docx")


def essay() -> None:
    # no digit in this text except the 2 of CO2 (a task subscripts it)
    d = _new()
    d.add_paragraph("Why I Walk to Work", "Title")
    d.add_paragraph("Three years ago I sold my car and started walking the two and a half miles "
                    "to my office. Friends thought the novelty would wear off within a month. "
                    "It has not, and I want to explain why.")
    d.add_paragraph("The first reason is time. Walking takes me forty minutes, while driving "
                    "took twenty-five once I had found somewhere to park. Those extra minutes "
                    "are the only part of the day when nobody can ask me for anything, and I "
                    "have come to guard them jealously.")
    d.add_paragraph("As my grandmother liked to say, \u201cA long walk fixes most things, and the "
                    "rest can wait until morning.\u201d")
    d.add_paragraph("The second reason is money, and the planet. Without a car I no longer pay "
                    "for insurance, fuel or repairs, and I have cut my share of CO2 emissions by "
                    "well over a tonne a year.")
    d.add_paragraph("Walking is not always pleasant. Rain in November is a test of character, "
                    "and I own more waterproof jackets than anyone needs. But on most mornings I "
                    "arrive at my desk awake, calm and ready to work, which is more than I could "
                    "say when I drove.")
    _save(d, "essay.docx")


def todo() -> None:
    d = _new()
    d.add_paragraph("Moving day checklist")
    d.add_paragraph("Things to sort out before we move on Saturday 20 April:")
    for item in ("Book the van", "Cancel the broadband and set up the new contract",
                 "Give the landlord our forwarding address", "Defrost the freezer",
                 "Pack the kitchen last", "Take meter readings on the day"):
        d.add_paragraph(item)
    d.add_paragraph("Keys go back to the agent by 5 pm on Monday 22 April.")
    _save(d, "todo.docx")


def price_list() -> None:
    d = _new()
    d.add_paragraph("Hillside Bakery", "Title")
    d.add_paragraph("Our prices from 1 May 2024. Everything is baked fresh each morning.")
    rows = [("Item", "Size", "Price"), ("Sourdough loaf", "800 g", "£3.80"),
            ("Rye loaf", "600 g", "£3.40"), ("Cinnamon bun", "each", "£2.10"),
            ("Cheese scone", "each", "£1.90"), ("Lemon drizzle cake", "whole", "£12.50")]
    table = d.add_table(rows=len(rows), cols=3)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_paragraph("Whole cakes need two days' notice. Call us on 01632 960 418.")
    _save(d, "price_list.docx")


def notice() -> None:
    d = _new()
    d.add_paragraph("Water Supply Interruption", "Heading 1")
    d.add_paragraph("The water supply to Elm Court, flats 1 to 24, will be switched off on "
                    "Thursday 18 July between 9 am and 3 pm while the main valve in the basement "
                    "is replaced. This work is urgent and cannot be postponed.")
    d.add_paragraph("Please fill a kettle and a few bottles the night before, and keep your taps "
                    "closed during the work. If you have a medical need for water during this "
                    "time, call the caretaker, Tom Hughes, on 07700 900 152 and we will make "
                    "other arrangements.")
    _save(d, "notice.docx")


def report() -> None:
    d = _new()
    d.add_paragraph("Oakfield Community Garden: Annual Report 2023", "Title")
    d.add_paragraph("Introduction", "Heading 1")
    d.add_paragraph("This report looks back on our fourth year at the old allotment site behind "
                    "St Anne's church. It covers who joined us, what we grew, how we spent our "
                    "money and what we would like to do next. Every member will recieve a "
                    "printed copy at the spring meeting.")
    d.add_paragraph("Membership", "Heading 1")
    d.add_paragraph("We ended the year with sixty-two members, up from forty-five. Most new "
                    "members live within walking distance, and for the first time we have a "
                    "waiting list for plots. Families with young children now make up about a "
                    "third of the membership, which has changed the feel of our Saturday "
                    "sessions for the better.")
    d.add_paragraph("Growing season", "Heading 1")
    d.add_paragraph("Vegetable beds", "Heading 2")
    d.add_paragraph("A wet spring delayed planting by almost three weeks, but the summer made up "
                    "for it. Beans, courgettes and squash did especially well, while the onions "
                    "suffered from white rot and will be moved to a new bed next year. We "
                    "donated surplus produce to the food bank on eleven occasions.")
    d.add_paragraph("Fruit trees", "Heading 2")
    d.add_paragraph("The six apple trees planted in 2021 gave their first real crop, and the "
                    "plum tree by the gate finally recovered from its split trunk. Pruning "
                    "workshops in February were popular and will be repeated.")
    d.add_paragraph("Tool shed")
    d.add_paragraph("The shed roof was repaired in May with a grant from the parish council. We "
                    "also replaced two wheelbarrows and a leaking water butt. Please remember to "
                    "sign tools out in the book by the door and to clean them before putting "
                    "them back.")
    d.add_paragraph("Money", "Heading 1")
    d.add_paragraph("Income for the year came from membership fees, the plant sale and the "
                    "parish grant. Our biggest costs were the shed roof, seeds and compost, and "
                    "insurance. We finished the year with a small surplus, which the committee "
                    "proposes to keep as a reserve for emergencies. Members who would like to "
                    "recieve the full accounts should ask the treasurer.")
    d.add_paragraph("Volunteers", "Heading 1")
    d.add_paragraph("None of this would happen without the people who turn up week after week. "
                    "Special thanks go to the Tuesday watering team, to everyone who baked for "
                    "the plant sale, and to the students from Oakfield College who helped clear "
                    "the overgrown corner by the railway line.")
    d.add_paragraph("Plans for 2024", "Heading 1")
    d.add_paragraph("Next year we hope to build a covered seating area, start a small orchard "
                    "of heritage varieties and run monthly sessions for the primary school. We "
                    "will also look at collecting rainwater from the shed roof, which should cut "
                    "our water bill during dry spells.")
    d.add_paragraph("We would welcome ideas from every member. Suggestions can be left in the box "
                    "in the shed or sent to the secretary by email at any time before the spring "
                    "meeting, where the committee will present a costed plan for a vote.")
    d.add_paragraph("Appendix: Plot holders", "Heading 1")
    d.add_paragraph("The list of plot holders and their plot numbers is kept by the secretary "
                    "and is available to members on request.")
    _save(d, "report.docx")


def invitation() -> None:
    d = _new()
    d.add_paragraph("Retirement Party")
    d.add_paragraph("Please join us to celebrate Margaret Ellis, who retires this summer after "
                    "thirty-one years at Linden Primary School.")
    d.add_paragraph("When: Friday 12 July, from 4 pm")
    d.add_paragraph("Where: the school hall, Linden Road")
    d.add_paragraph("There will be tea, cake and a few short speeches. If you would like to "
                    "give towards a present, please see Mrs Patel in the school office.")
    d.add_paragraph("RSVP by 28 June to Joanne Patel")
    _save(d, "invitation.docx")


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for make in (memo, cover_letter, recipe, product, essay, todo, price_list, notice, report,
                 invitation):
        make()
    for path in sorted(DOCS.glob("*.docx")):
        print(f"{path.stat().st_size:>7} {path.relative_to(DOCS.parent)}")


if __name__ == "__main__":
    main()
