from tests.conftest import DOMAIN, GraphQLClient, seed
from tests import factories

async def test_mock(mock_client: GraphQLClient, mock_db) -> None:
    await seed(mock_db, [factories.job(DOMAIN), factories.job("x")])
    body = await mock_client('{ jobs(domainId: "%s") { totalCount results { jobId } } }' % DOMAIN)
    assert body["data"]["jobs"]["totalCount"] == 1

async def test_wire(wire_client: GraphQLClient, wire_db, command_recorder) -> None:
    await seed(wire_db, [factories.job(DOMAIN), factories.job("x")])
    command_recorder.clear()
    body = await wire_client('{ jobs(domainId: "%s") { totalCount results { jobId errors { errorCode } } } }' % DOMAIN)
    assert body["data"]["jobs"]["totalCount"] == 1, body
    print(command_recorder.commands)
