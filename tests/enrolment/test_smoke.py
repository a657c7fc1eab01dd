from tests.factories import application


def test_self_application_enrols(client):
    response = client.post("/api/v1/applications", json=application("PE"))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "enrolled"
