import json
from tests.hr.conftest import *  # noqa

def test_scratch(corpus, make_user, engine_url):
    from appliance.hr import answering
    user = make_user("staff")
    for q in ["I've been a federal employee for about five years. How much annual leave do I earn each pay period?",
              "My wife Maria Lopez has cancer surgery on March 3rd. Can I take leave to care for her?",
              "What is the dress code for client meetings?"]:
        a = answering.ask(user, q)
        print(json.dumps(a, indent=1)[:2500])
