"""Creates the example buckets (idempotent): a primary in us-east-1 and a DR bucket with
Object Lock in eu-west-1, matching drills/s3.toml."""

import argparse

import boto3
from botocore.exceptions import ClientError

BUCKETS = [
    ("firedrill-primary", "us-east-1", False),
    ("firedrill-dr", "eu-west-1", True),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566")
    args = parser.parse_args()
    for name, region, lock in BUCKETS:
        s3 = boto3.client(
            "s3",
            endpoint_url=args.endpoint,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        params = {"Bucket": name, "ObjectLockEnabledForBucket": lock}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**params)
            print(f"created bucket {name} in {region}{' with Object Lock' if lock else ''}")
        except ClientError as e:
            if e.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                print(f"bucket {name} exists")
            else:
                raise


if __name__ == "__main__":
    main()
